-- wrk script: POST /api/agents, each request naming a new agent with one capability.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "status_counts.lua")

local counter = 0
local headers = { ["Content-Type"] = "application/json" }

function request()
  counter = counter + 1
  local body = string.format(
    '{"name":"wrk-agent-%s-%d","capabilities":[{"name":"echo","proficiency":0.8}],"max_concurrency":4}',
    tostring(thread_id), counter)
  return wrk.format("POST", "/api/agents", headers, body)
end

-- wrk script: POST /api/tasks with one echo task per request (the server answers 201 once durable).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "status_counts.lua")

wrk.method = "POST"
wrk.path = "/api/tasks"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"type":"echo","payload":{"text":"hello from wrk"}}'

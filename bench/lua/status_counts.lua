-- Shared by the wrk scripts: counts replies outside 2xx per status code and prints them in done().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

non_2xx = {}

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx[status] = (non_2xx[status] or 0) + 1
    if first_error == nil then
      first_error = string.sub(body or "", 1, 200)
    end
  end
end

function done(summary, latency, requests)
  local total, parts, sample = 0, {}, nil
  local by_status = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("non_2xx") or {}) do
      by_status[status] = (by_status[status] or 0) + count
      total = total + count
    end
    sample = sample or thread:get("first_error")
  end
  for status, count in pairs(by_status) do
    table.insert(parts, status .. ":" .. count)
  end
  table.sort(parts)
  local e = summary.errors
  io.write(string.format("bench: non_2xx=%d statuses=%s socket_errors=%d\n", total,
                         #parts > 0 and table.concat(parts, ",") or "none",
                         e.connect + e.read + e.write + e.timeout))
  if sample then
    io.write("bench: first non-2xx body: " .. sample .. "\n")
  end
end

-- A web-hook style task: validate an incoming event, format the message a chat or ticket
-- system expects, and remember per agent how many events of each kind it formatted.
--
-- Task type: webhook.format
-- Payload:   {"event": "deploy"|"incident"|"alert", "service": "...", "severity": 1-5,
--             "message": "...", "url": "https://..." (optional)}
-- Result:    {"ok": true, "body": {"title": ..., "text": ..., "color": ...}, "seen": N}
--            or {"ok": false, "errors": ["field: problem", ...]} for a bad event.

local colors = { deploy = "#2eb886", incident = "#d50200", alert = "#f2c744" }

local function validate(p)
  local errors = {}
  if not colors[p.event] then
    errors[#errors + 1] = "event: must be deploy, incident or alert"
  end
  if type(p.service) ~= "string" or not p.service:match("^[%w%-_.]+$") then
    errors[#errors + 1] = "service: letters, digits, '-', '_' and '.' only"
  end
  if math.type(p.severity) ~= "integer" or p.severity < 1 or p.severity > 5 then
    errors[#errors + 1] = "severity: a whole number from 1 to 5"
  end
  if type(p.message) ~= "string" or #p.message == 0 or #p.message > 2000 then
    errors[#errors + 1] = "message: 1 to 2000 characters"
  end
  if p.url ~= nil and (type(p.url) ~= "string" or not p.url:match("^https://")) then
    errors[#errors + 1] = "url: must start with https://"
  end
  return errors
end

hive.task_type("webhook.format", function(task, ctx)
  local p = task.payload
  local errors = validate(p)
  if #errors > 0 then
    return { ok = false, errors = errors }
  end
  local title = ("[%s] %s (severity %d)"):format(p.event:upper(), p.service, p.severity)
  local text = p.message
  if p.url then text = text .. "\n" .. p.url end
  -- Per-agent state survives restarts: how many events of this kind this agent formatted.
  local seen = (ctx.state.get(p.event) or 0) + 1
  ctx.state.set(p.event, seen)
  return { ok = true, body = { title = title, text = text, color = colors[p.event] }, seen = seen }
end)

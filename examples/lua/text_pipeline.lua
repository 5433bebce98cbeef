-- A text pipeline: split a document into paragraphs, analyse each one as an nlp.analyze
-- sub-task (they run in parallel, on whichever agents are free), then merge the results.
--
-- Task type: pipeline.analyze_document
-- Payload:   {"text": "paragraph one...\n\nparagraph two...", "max_parts": 16}
-- Result:    {"parts": N, "sentiment": mean score, "label": ..., "keywords": [...], "failed": K}

local function paragraphs(text, max_parts)
  local parts = {}
  for block in (text .. "\n\n"):gmatch("(.-)\n%s*\n") do
    if block:find("%S") then parts[#parts + 1] = block end
    if #parts == max_parts then break end
  end
  return parts
end

hive.task_type("pipeline.analyze_document", function(task, ctx)
  local text = task.payload.text
  if type(text) ~= "string" or text == "" then
    error("payload.text must be a non-empty string")
  end
  local parts = paragraphs(text, task.payload.max_parts or 16)

  -- Fan out: submit every part first, then wait; the sub-tasks run meanwhile.
  local ids = {}
  for i, part in ipairs(parts) do
    ids[i] = assert(ctx.submit("nlp.analyze", { text = part, max_keywords = 5 }))
  end
  local results = ctx.await_all(ids)

  -- Merge: mean sentiment over the parts that worked, keywords ranked by total score.
  local score, counted, failed, weight = 0, 0, 0, {}
  for _, r in ipairs(results) do
    if r.status == "completed" then
      counted = counted + 1
      score = score + r.result.sentiment.score
      for _, k in ipairs(r.result.keywords) do
        weight[k.term] = (weight[k.term] or 0) + k.score
      end
    else
      failed = failed + 1
    end
  end
  local keywords = {}
  for term in pairs(weight) do keywords[#keywords + 1] = term end
  table.sort(keywords, function(a, b)
    if weight[a] ~= weight[b] then return weight[a] > weight[b] end
    return a < b
  end)
  while #keywords > 10 do table.remove(keywords) end

  local mean = counted > 0 and score / counted or 0
  ctx.log(("analysed %d parts (%d failed)"):format(counted, failed))
  return {
    parts = #parts,
    failed = failed,
    sentiment = mean,
    label = mean > 0.05 and "positive" or (mean < -0.05 and "negative" or "neutral"),
    keywords = keywords,
  }
end)

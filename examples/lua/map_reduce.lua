-- Fan-out / fan-in: count words in a large text by mapping chunks to sub-tasks of a task
-- type this same script defines, then reducing their counts.
--
-- Task type: mapreduce.word_count   payload {"text": "...", "chunks": 8}
--            result {"total": N, "top": [{"word": w, "count": c}, ...], "chunks": K}
-- Task type: mapreduce.count_chunk  payload {"text": "..."} -> {"counts": {word: n, ...}}

hive.task_type("mapreduce.count_chunk", function(task, ctx)
  local counts = {}
  for word in task.payload.text:lower():gmatch("%a+") do
    counts[word] = (counts[word] or 0) + 1
  end
  return { counts = counts }
end)

local function split_words(text, chunks)
  local words = {}
  for w in text:gmatch("%S+") do words[#words + 1] = w end
  local size = math.max(1, math.ceil(#words / chunks))
  local out = {}
  for i = 1, #words, size do
    out[#out + 1] = table.concat(words, " ", i, math.min(i + size - 1, #words))
  end
  return out
end

hive.task_type("mapreduce.word_count", function(task, ctx)
  local chunks = split_words(task.payload.text or "", task.payload.chunks or 8)
  -- One submission for all the map tasks (one commit, however many chunks).
  local batch = {}
  for i, chunk in ipairs(chunks) do
    batch[i] = { type = "mapreduce.count_chunk", payload = { text = chunk } }
  end
  local ids = assert(ctx.submit_all(batch))
  local total, merged = 0, {}
  for _, r in ipairs(ctx.await_all(ids)) do
    if r.status ~= "completed" then
      error("a map task " .. r.status .. ": " .. tostring(r.error))
    end
    for word, n in pairs(r.result.counts) do
      merged[word] = (merged[word] or 0) + n
      total = total + n
    end
  end
  local top = {}
  for word, n in pairs(merged) do top[#top + 1] = { word = word, count = n } end
  table.sort(top, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.word < b.word
  end)
  while #top > 5 do table.remove(top) end
  return { total = total, top = top, chunks = #chunks }
end)

--[[
  Keeps a task's history within HISTORY_MAX_LEN entries without losing an answer. Once the stream holds
  more than `maxLen` entries, the oldest streamed deltas (`agent_output`, and `agent_thinking` with a
  `delta`) are folded, oldest first, into one snapshot per run and type until the stream is down to
  `targetLen`: the snapshot is an envelope `{ type, data: { delta: <the run's whole text of that type up
  to it>, snapshot: true } }` whose seq is the last delta it folds, kept in the snapshots hash (field
  `e|<runId>|<type>` = the envelope, `s|<runId>|<type>` = its seq, so readers find the seqs without
  reading the texts), and the folded entries are deleted. Events that are not deltas are never folded. Only
  when they alone are more than `targetLen` are the oldest of them dropped (truncation, as before), with
  the snapshots at or below the dropped seqs. Snapshots count against `maxLen`.

  The task hash records `foldedThrough` (highest seq folded into a snapshot) and `trimmedThrough`
  (highest seq dropped for good), so a reader tells a folded seq (its text is in a snapshot) from a lost
  one. Readers merge the snapshots into history by seq (packages/store/src/event-log.ts).

  Input:
    KEYS[1] task hash
    KEYS[2] history stream (events)
    KEYS[3] snapshots hash
    ARGV[1] maxLen: entries (stream + snapshots) above which the history is compacted
    ARGV[2] targetLen: entries to compact down to (below maxLen, so compaction runs once per many events)
    ARGV[3] TTL seconds of the task and its history

  Output:
    {folded, trimmed, entries}: deltas folded, events dropped for good, entries left (stream + snapshots)
]]
local maxLen = tonumber(ARGV[1])
local targetLen = tonumber(ARGV[2])
local snapshots = redis.call('HLEN', KEYS[3]) / 2
local xlen = redis.call('XLEN', KEYS[2])
if xlen + snapshots <= maxLen then return {0, 0, xlen + snapshots} end

local function isDelta(e)
  return type(e.data) == 'table' and type(e.data.delta) == 'string'
    and (e.type == 'agent_output' or e.type == 'agent_thinking')
end

-- Fold the oldest deltas, scanning from the oldest entry, until the stream and the snapshots fit.
local pending = {} -- '<runId>|<type>' -> { parts, seq, ts, taskId, runId, userId, type }
local order = {}
local folded = 0
local foldedThrough = 0
local cursor = '-'
local scanned = 0
while xlen - folded + snapshots > targetLen and scanned < 100000 do
  local rows = redis.call('XRANGE', KEYS[2], cursor, '+', 'COUNT', 512)
  if #rows == 0 then break end
  local ids = {}
  for _, row in ipairs(rows) do
    local id = row[1]
    cursor = '(' .. id
    scanned = scanned + 1
    local ok, e = pcall(cjson.decode, row[2][2])
    if ok and isDelta(e) then
      local key = e.runId .. '|' .. e.type
      local p = pending[key]
      if not p then
        p = { parts = {}, type = e.type, taskId = e.taskId, runId = e.runId, userId = e.userId }
        local old = redis.call('HGET', KEYS[3], 'e|' .. key)
        if old then
          p.parts[1] = cjson.decode(old).data.delta
        else
          snapshots = snapshots + 1 -- a new snapshot takes a place
        end
        pending[key] = p
        order[#order + 1] = key
      end
      if e.data.snapshot then p.parts = { e.data.delta } else p.parts[#p.parts + 1] = e.data.delta end
      p.seq = e.seq
      p.ts = e.ts
      ids[#ids + 1] = id
      folded = folded + 1
      if e.seq > foldedThrough then foldedThrough = e.seq end
      if xlen - folded + snapshots <= targetLen then break end
    end
  end
  for i = 1, #ids, 256 do redis.call('XDEL', KEYS[2], unpack(ids, i, math.min(i + 255, #ids))) end
  if #rows < 512 then break end
end
for _, key in ipairs(order) do
  local p = pending[key]
  local env = '{"v":1,"seq":' .. p.seq .. ',"type":"' .. p.type .. '","ts":' .. string.format('%d', p.ts)
    .. ',"id":' .. cjson.encode('snap-' .. p.runId .. '-' .. p.seq)
    .. ',"taskId":' .. cjson.encode(p.taskId) .. ',"runId":' .. cjson.encode(p.runId) .. ',"userId":' .. cjson.encode(p.userId)
    .. ',"data":{"delta":' .. cjson.encode(table.concat(p.parts)) .. ',"snapshot":true}}'
  redis.call('HSET', KEYS[3], 'e|' .. key, env, 's|' .. key, p.seq)
end
if foldedThrough > 0 then
  local prev = tonumber(redis.call('HGET', KEYS[1], 'foldedThrough')) or 0
  if foldedThrough > prev then redis.call('HSET', KEYS[1], 'foldedThrough', foldedThrough) end
end

-- Still too long: the rest is events that are not deltas (or the scan bound was hit). Drop the oldest.
local trimmed = 0
xlen = redis.call('XLEN', KEYS[2])
snapshots = redis.call('HLEN', KEYS[3]) / 2
if xlen + snapshots > targetLen then
  local drop = math.min(xlen, xlen + snapshots - targetLen)
  local rows = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', drop)
  local last = rows[#rows]
  if last then
    local through = tonumber(string.match(last[1], '^(%d+)'))
    redis.call('XTRIM', KEYS[2], 'MINID', (through + 1) .. '-0')
    trimmed = #rows
    redis.call('HSET', KEYS[1], 'trimmedThrough', through)
    -- Snapshots at or below a dropped seq are unreachable: drop them too.
    for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
      if string.sub(field, 1, 2) == 's|' then
        local seq = tonumber(redis.call('HGET', KEYS[3], field))
        if seq and seq <= through then redis.call('HDEL', KEYS[3], field, 'e|' .. string.sub(field, 3)) end
      end
    end
  end
end
local ttl = tonumber(ARGV[3])
if redis.call('HLEN', KEYS[3]) > 0 then redis.call('EXPIRE', KEYS[3], ttl) end
return {folded, trimmed, redis.call('XLEN', KEYS[2]) + redis.call('HLEN', KEYS[3]) / 2}

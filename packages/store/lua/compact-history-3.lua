--[[
  Keeps a task's history within its bounds — HISTORY_MAX_LEN entries and HISTORY_MAX_BYTES bytes — without
  losing an answer. Once the history is over a bound, the oldest streamed deltas (`agent_output`, and
  `agent_thinking` with a `delta`) are folded, oldest first, into one snapshot per run and type until it is
  down to the targets: the snapshot is an envelope `{ type, data: { delta: <the run's whole text of that
  type up to it>, snapshot: true } }` whose seq is the last delta it folds, kept in the snapshots hash
  (field `e|<runId>|<type>` = the envelope, `s|<runId>|<type>` = its seq, so readers find the seqs without
  reading the texts), and the folded entries are deleted. Events that are not deltas are never folded. Only
  when the history is still over a target after folding (the other events alone are too many, or the texts
  too large) is the oldest of it dropped, event or snapshot, oldest seq first (truncation). Snapshots count
  against both bounds.

  Bytes: the task hash's `historyBytes` is the size of every envelope in the stream and in the snapshots
  hash; the publish script adds each event's, this script keeps it exact for what it folds, writes and drops.

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
    ARGV[4] maxBytes: bytes above which the history is compacted (0 = no byte bound)
    ARGV[5] targetBytes: bytes to compact down to

  Output:
    {folded, trimmed, entries, bytes}: deltas folded, events and snapshots dropped for good, entries and
    bytes left
]]
local maxLen = tonumber(ARGV[1])
local targetLen = tonumber(ARGV[2])
local maxBytes = tonumber(ARGV[4]) or 0
local targetBytes = tonumber(ARGV[5]) or 0
local snapshots = redis.call('HLEN', KEYS[3]) / 2
local xlen = redis.call('XLEN', KEYS[2])
local bytes = tonumber(redis.call('HGET', KEYS[1], 'historyBytes')) or 0
if xlen + snapshots <= maxLen and (maxBytes == 0 or bytes <= maxBytes) then return {0, 0, xlen + snapshots, bytes} end
local function over(entries)
  return entries > targetLen or (targetBytes > 0 and bytes > targetBytes)
end

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
while over(xlen - folded + snapshots) and scanned < 100000 do
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
        p = { parts = {}, type = e.type, taskId = e.taskId, runId = e.runId, userId = e.userId, added = 0, oldBytes = 0 }
        local old = redis.call('HGET', KEYS[3], 'e|' .. key)
        if old then
          p.parts[1] = cjson.decode(old).data.delta
          p.oldBytes = #old
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
      -- The entry goes; its text moves into the snapshot (made exact when the snapshot is written).
      bytes = bytes - #row[2][2] + #e.data.delta
      p.added = p.added + #e.data.delta
      if e.seq > foldedThrough then foldedThrough = e.seq end
      if not over(xlen - folded + snapshots) then break end
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
  bytes = bytes - p.added - p.oldBytes + #env
end
if foldedThrough > 0 then
  local prev = tonumber(redis.call('HGET', KEYS[1], 'foldedThrough')) or 0
  if foldedThrough > prev then redis.call('HSET', KEYS[1], 'foldedThrough', foldedThrough) end
end

-- Still over a target: the rest is events that are not deltas, or texts too large to keep (or the scan
-- bound was hit). Drop the oldest of the history, event or snapshot, by seq, until it fits.
local trimmed = 0
xlen = redis.call('XLEN', KEYS[2])
local snaps = {} -- { seq, key, bytes }, oldest first
for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
  if string.sub(field, 1, 2) == 's|' then
    local key = string.sub(field, 3)
    local seq = tonumber(redis.call('HGET', KEYS[3], field)) or 0
    snaps[#snaps + 1] = { seq = seq, key = key, bytes = redis.call('HSTRLEN', KEYS[3], 'e|' .. key) }
  end
end
table.sort(snaps, function(x, y) return x.seq < y.seq end)
local through = 0
local si = 1
local entries = xlen + #snaps
local rows, ri, cursor2, exhausted = {}, 1, '-', false
-- Folding aims at the byte target with an estimate (a snapshot's envelope is written afterwards): a
-- history it left just above the target but within maxBytes loses nothing.
local trimming = entries > targetLen or (maxBytes > 0 and bytes > maxBytes)
while trimming and over(entries) do
  if ri > #rows and not exhausted then
    rows = redis.call('XRANGE', KEYS[2], cursor2, '+', 'COUNT', 256)
    ri = 1
    if #rows < 256 then exhausted = true end
    if #rows > 0 then cursor2 = '(' .. rows[#rows][1] end
  end
  local row = rows[ri]
  local snap = snaps[si]
  if not row and not snap then break end
  local rseq = row and tonumber(string.match(row[1], '^(%d+)'))
  if snap and (not rseq or snap.seq < rseq) then
    redis.call('HDEL', KEYS[3], 's|' .. snap.key, 'e|' .. snap.key)
    bytes = bytes - snap.bytes
    if snap.seq > through then through = snap.seq end
    si = si + 1
  else
    bytes = bytes - #row[2][2]
    if rseq > through then through = rseq end
    ri = ri + 1
  end
  entries = entries - 1
  trimmed = trimmed + 1
end
if through > 0 then
  redis.call('XTRIM', KEYS[2], 'MINID', (through + 1) .. '-0')
  -- Snapshots at or below a dropped seq are unreachable: drop them too.
  while snaps[si] and snaps[si].seq <= through do
    redis.call('HDEL', KEYS[3], 's|' .. snaps[si].key, 'e|' .. snaps[si].key)
    bytes = bytes - snaps[si].bytes
    si = si + 1
  end
  local prev = tonumber(redis.call('HGET', KEYS[1], 'trimmedThrough')) or 0
  if through > prev then redis.call('HSET', KEYS[1], 'trimmedThrough', through) end
end
if bytes < 0 then bytes = 0 end
redis.call('HSET', KEYS[1], 'historyBytes', bytes)
local ttl = tonumber(ARGV[3])
if redis.call('HLEN', KEYS[3]) > 0 then redis.call('EXPIRE', KEYS[3], ttl) end
return {folded, trimmed, redis.call('XLEN', KEYS[2]) + redis.call('HLEN', KEYS[3]) / 2, bytes}

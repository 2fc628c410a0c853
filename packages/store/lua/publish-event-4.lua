--[[
  Append one event to a task's current run: check the run may publish it, assign seq (lastSeq + 1),
  XADD to the history stream with id `<seq>-0`, refresh TTLs (at a run's first and last event, at a
  question, and every 32 events), update the task state (running / final status, open question) and
  SPUBLISH to the task room, so history order is delivery order and the task is free the moment its
  terminal event exists.

  A worker publishes each event of a run at a position: its owner token (random per job attempt) and
  the event's index in the run (0 = agent_started). The task hash keeps the run's owner (`runOwner`) and
  the next index it expects (`runNext`). An index already published by the same owner is a resend
  (a retry, or ioredis resending after a reconnect): nothing is appended and the seq that index got is
  returned, for every event of the run (a run's events have consecutive seqs, so event k has
  seq lastSeq - runNext + 1 + k). agent_started is accepted only while the run is queued, at index 0,
  and makes its sender the owner; any other positioned event only while the run is running, from its
  owner, at exactly runNext. Without a position (owner '' and index '': tests and the benchmark's
  publisher) an event is appended at the end, as long as no worker owns the run.

  Input:
    KEYS[1] task hash
    KEYS[2] history stream (events)
    KEYS[3] open question hash
    KEYS[4] snapshots hash (compact-history-3.lua): only counted here

    ARGV[1]  runId
    ARGV[2]  event type
    ARGV[3]  envelope JSON before seq
    ARGV[4]  envelope JSON after seq
    ARGV[5]  broadcast frame before the envelope
    ARGV[6]  broadcast frame after the envelope
    ARGV[7]  shard channel of the task room
    ARGV[8]  history bound: entries (stream + snapshots) above which the caller compacts (compact-history-3.lua)
    ARGV[9]  TTL seconds of the task and its history
    ARGV[10] now, ms
    ARGV[11] questionId (agent_question), else ''
    ARGV[12] final status (terminal events), else ''
    ARGV[13] owner token of the run's execution, '' without a position
    ARGV[14] index of the event in its run (0 = agent_started), '' without a position
    ARGV[15] '1': SPUBLISH here; '': append only (the caller publishes the frame after WAIT)
    ARGV[16] history bound in bytes (envelopes in the stream + snapshots, counted in the task hash's
             `historyBytes`) above which the caller compacts; 0 = no byte bound

  Output:
    (when appended, a third element: 1 if the history is now over a bound (entries or bytes) and the
    caller should compact it, else 0)
    {seq, receivers}  published; receivers = gateways subscribed to the room's channel
    {seq, -1}         appended, not published (ARGV[15] = ''): the caller publishes it
    {seq, -3}         this owner already published this index (a resend); seq is the seq it got;
                      nothing done
    {-1, 0}           runId is not the task's current run
    {-2, 0}           the run has ended
    {-4, 0}           agent_started, but the run has already started
    {-5, 0}           fenced: another execution owns the run
    {-6, next}        out of order: the index is not the next one (or an event before agent_started);
                      next = the index the run expects (after a failover lost a run's last events, the
                      worker re-sends them from there, see apps/worker/src/runs/run-events.ts)
]]
local runId = ARGV[1]
local kind = ARGV[2]
local owner = ARGV[13]
local index = tonumber(ARGV[14])
local t = redis.call('HMGET', KEYS[1], 'runId', 'status', 'lastSeq', 'runOwner', 'runNext', 'historyBytes')
if t[1] ~= runId then return {-1, 0} end
local lastSeq = tonumber(t[3]) or 0
local nextIndex = tonumber(t[5]) or 0
if index and t[4] == owner and index < nextIndex then return {lastSeq - nextIndex + 1 + index, -3} end
local status = t[2]
if kind == 'agent_started' then
  if status == 'running' then return {-4, 0} end
  if status ~= 'queued' then return {-2, 0} end
  if index and index ~= 0 then return {-6, 0} end
elseif status == 'running' then
  if (t[4] or '') ~= owner then return {-5, 0} end
  if index and index ~= nextIndex then return {-6, nextIndex} end
elseif status == 'queued' then
  if index then return {-6, 0} end
else
  return {-2, 0}
end
local seq = lastSeq + 1
local env = ARGV[3] .. seq .. ARGV[4]
redis.call('XADD', KEYS[2], seq .. '-0', 'e', env)
-- Bytes are counted in the HSET below (no call of their own); the compaction script keeps them exact.
local bytes = (tonumber(t[6]) or 0) + #env
local maxBytes = tonumber(ARGV[16]) or 0
local over = 0
if (maxBytes > 0 and bytes > maxBytes) or redis.call('XLEN', KEYS[2]) + redis.call('HLEN', KEYS[4]) / 2 > tonumber(ARGV[8]) then over = 1 end
local ttl = tonumber(ARGV[9])
-- TTLs are refreshed at a run's first and last event, at a question (the user may take long to answer)
-- and every 32 events between: a task stays alive while it is active, without two EXPIREs per event.
if seq % 32 == 1 or kind == 'agent_started' or kind == 'agent_question' or ARGV[12] ~= '' or kind == 'agent_error' then
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[4], ttl)
end
if kind == 'agent_started' then
  redis.call('HSET', KEYS[1], 'lastSeq', seq, 'updatedAt', ARGV[10], 'runNext', 1, 'status', 'running', 'runOwner', owner, 'historyBytes', bytes)
elseif ARGV[12] ~= '' then
  redis.call('HSET', KEYS[1], 'lastSeq', seq, 'updatedAt', ARGV[10], 'runNext', nextIndex + 1, 'status', ARGV[12], 'historyBytes', bytes)
  redis.call('HDEL', KEYS[1], 'cancelRequested')
  redis.call('DEL', KEYS[3])
else
  redis.call('HSET', KEYS[1], 'lastSeq', seq, 'updatedAt', ARGV[10], 'runNext', nextIndex + 1, 'historyBytes', bytes)
  if kind == 'agent_question' then
    redis.call('DEL', KEYS[3])
    redis.call('HSET', KEYS[3], 'questionId', ARGV[11], 'runId', runId, 'status', 'open')
    redis.call('EXPIRE', KEYS[3], ttl)
  end
end
if ARGV[15] == '' then return {seq, -1, over} end
local receivers = redis.call('SPUBLISH', ARGV[7], ARGV[5] .. env .. ARGV[6])
return {seq, receivers, over}

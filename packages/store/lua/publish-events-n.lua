--[[
  Append events, each to its task's current run, in the order given: one script call for the events a
  worker has ready at once (on a Redis Cluster every key of one call is in one slot). Each event is
  handled in turn, whatever became of the ones before it: check its run may publish it, assign seq
  (lastSeq + 1), XADD to the history stream with id `<seq>-0`, refresh TTLs (at a run's first and last
  event, at a question, and every 32 events), update the task state (running / final status, open
  question) and SPUBLISH to the task room, so history order is delivery order and the task is free the
  moment its terminal event exists.

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
    The caller passes the number of keys (4 per event) first. Event i (from 1) has its keys at
    KEYS[4 * (i - 1) + n] and its arguments at ARGV[16 * (i - 1) + n]; below, kn and an name them.
    k1  task hash
    k2  history stream (events)
    k3  open question hash
    k4  snapshots hash (compact-history-3.lua): only counted here

    a1  runId
    a2  event type
    a3  envelope JSON before seq
    a4  envelope JSON after seq
    a5  broadcast frame before the envelope
    a6  broadcast frame after the envelope
    a7  shard channel of the task room
    a8  history bound: entries (stream + snapshots) above which the caller compacts (compact-history-3.lua)
    a9  TTL seconds of the task and its history
    a10 now, ms
    a11 questionId (agent_question), else ''
    a12 final status (terminal events), else ''
    a13 owner token of the run's execution, '' without a position
    a14 index of the event in its run (0 = agent_started), '' without a position
    a15 '1': SPUBLISH here; '': append only (the caller publishes the frame after WAIT)
    a16 history bound in bytes (envelopes in the stream + snapshots, counted in the task hash's
        `historyBytes`) above which the caller compacts; 0 = no byte bound

  Output:
    Three numbers per event, in the order of the events ({seq, code, over} of event 1, then of event
    2, ...). over is 1 when the event was appended and its history is now over a bound (entries or
    bytes) so the caller should compact it, else 0. {seq, code}:
    {seq, receivers}  published; receivers = gateways subscribed to the room's channel
    {seq, -1}         appended, not published (a15 = ''): the caller publishes it
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
-- One event: its keys start after KEYS[k], its arguments after ARGV[a]. Returns seq, code, over.
local function publish(k, a)
  local task, events, question, snapshots = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local runId = ARGV[a + 1]
  local kind = ARGV[a + 2]
  local final = ARGV[a + 12]
  local owner = ARGV[a + 13]
  local index = tonumber(ARGV[a + 14])
  local t = redis.call('HMGET', task, 'runId', 'status', 'lastSeq', 'runOwner', 'runNext', 'historyBytes')
  if t[1] ~= runId then return -1, 0, 0 end
  local lastSeq = tonumber(t[3]) or 0
  local nextIndex = tonumber(t[5]) or 0
  if index and t[4] == owner and index < nextIndex then return lastSeq - nextIndex + 1 + index, -3, 0 end
  local status = t[2]
  if kind == 'agent_started' then
    if status == 'running' then return -4, 0, 0 end
    if status ~= 'queued' then return -2, 0, 0 end
    if index and index ~= 0 then return -6, 0, 0 end
  elseif status == 'running' then
    if (t[4] or '') ~= owner then return -5, 0, 0 end
    if index and index ~= nextIndex then return -6, nextIndex, 0 end
  elseif status == 'queued' then
    if index then return -6, 0, 0 end
  else
    return -2, 0, 0
  end
  local seq = lastSeq + 1
  local env = ARGV[a + 3] .. seq .. ARGV[a + 4]
  redis.call('XADD', events, seq .. '-0', 'e', env)
  -- Bytes are counted in the HSET below (no call of their own); the compaction script keeps them exact.
  local bytes = (tonumber(t[6]) or 0) + #env
  local maxBytes = tonumber(ARGV[a + 16]) or 0
  local over = 0
  if (maxBytes > 0 and bytes > maxBytes) or redis.call('XLEN', events) + redis.call('HLEN', snapshots) / 2 > tonumber(ARGV[a + 8]) then
    over = 1
  end
  local ttl = tonumber(ARGV[a + 9])
  -- TTLs are refreshed at a run's first and last event, at a question (the user may take long to answer)
  -- and every 32 events between: a task stays alive while it is active, without two EXPIREs per event.
  if seq % 32 == 1 or kind == 'agent_started' or kind == 'agent_question' or final ~= '' or kind == 'agent_error' then
    redis.call('EXPIRE', events, ttl)
    redis.call('EXPIRE', task, ttl)
    redis.call('EXPIRE', snapshots, ttl)
  end
  local now = ARGV[a + 10]
  if kind == 'agent_started' then
    redis.call('HSET', task, 'lastSeq', seq, 'updatedAt', now, 'runNext', 1, 'status', 'running', 'runOwner', owner, 'historyBytes', bytes)
  elseif final ~= '' then
    redis.call('HSET', task, 'lastSeq', seq, 'updatedAt', now, 'runNext', nextIndex + 1, 'status', final, 'historyBytes', bytes)
    redis.call('HDEL', task, 'cancelRequested')
    redis.call('DEL', question)
  else
    redis.call('HSET', task, 'lastSeq', seq, 'updatedAt', now, 'runNext', nextIndex + 1, 'historyBytes', bytes)
    if kind == 'agent_question' then
      redis.call('DEL', question)
      redis.call('HSET', question, 'questionId', ARGV[a + 11], 'runId', runId, 'status', 'open')
      redis.call('EXPIRE', question, ttl)
    end
  end
  if ARGV[a + 15] == '' then return seq, -1, over end
  return seq, redis.call('SPUBLISH', ARGV[a + 7], ARGV[a + 5] .. env .. ARGV[a + 6]), over
end

local out = {}
for i = 0, #KEYS / 4 - 1 do
  local seq, code, over = publish(4 * i, 16 * i)
  out[3 * i + 1], out[3 * i + 2], out[3 * i + 3] = seq, code, over
end
return out

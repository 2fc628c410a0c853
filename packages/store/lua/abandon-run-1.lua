--[[
  Undo a run whose job could not be queued: the task goes back to what it was before the run, so a
  failed start leaves no run behind (no run without events, no task stuck `queued`).

  Input:
    KEYS[1] task hash

    ARGV[1] runId

  Output:
    1  a follow-up run was undone: the previous run is the task's current one again (status, runId,
       updatedAt restored; runs - 1)
    2  the task's first run was undone: the task is deleted (the caller removes it from its user's list)
    0  nothing done: the run is not the task's current one, or it is no longer queued
]]
local t = redis.call('HMGET', KEYS[1], 'runId', 'status', 'prevRunId', 'prevStatus', 'prevUpdatedAt')
if t[1] ~= ARGV[1] or t[2] ~= 'queued' then return 0 end
if t[3] then
  redis.call('HSET', KEYS[1], 'runId', t[3], 'status', t[4], 'updatedAt', t[5])
  redis.call('HINCRBY', KEYS[1], 'runs', -1)
  redis.call('HDEL', KEYS[1], 'prevRunId', 'prevStatus', 'prevUpdatedAt')
  return 1
end
redis.call('DEL', KEYS[1])
return 2

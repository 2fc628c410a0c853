--[[
  Record the id a client gave a run (an AG-UI runId), only while that run is the task's current one
  and the task exists (a plain HSET would create a task hash without its TTL).

  Input:
    KEYS[1] task hash

    ARGV[1] runId (agentcast's)
    ARGV[2] the client's id for it

  Output:
    1  recorded
    0  no such task, or another run is current
]]
if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'clientRunId', ARGV[2], 'clientRunFor', ARGV[1])
return 1

--[[
  Ask the worker running the task to cancel it: marks the run and tells every worker on the
  control channel.

  Input:
    KEYS[1] task hash

    ARGV[1] userId (must be the owner)
    ARGV[2] control channel (classic pub/sub)

  Output:
    {'ok', runId}         requested for the current run
    {'not_found'}         no such task
    {'forbidden'}         not the owner
    {'task_not_running'}  no run is queued or running
]]
local t = redis.call('HMGET', KEYS[1], 'userId', 'status', 'runId')
if not t[1] then return {'not_found'} end
if t[1] ~= ARGV[1] then return {'forbidden'} end
if t[2] ~= 'queued' and t[2] ~= 'running' then return {'task_not_running'} end
redis.call('HSET', KEYS[1], 'cancelRequested', t[3])
redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'cancel', taskId = redis.call('HGET', KEYS[1], 'taskId'), runId = t[3]}))
return {'ok', t[3]}

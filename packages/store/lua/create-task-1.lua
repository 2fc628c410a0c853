--[[
  Create a task with its first run, queued.

  Input:
    KEYS[1] task hash

    ARGV[1] taskId
    ARGV[2] runId
    ARGV[3] userId (owner)
    ARGV[4] now, ms
    ARGV[5] TTL seconds
    ARGV[6] title
    ARGV[7] order (the user's task counter)

  Output:
    {'ok', 0}   created
    {'exists'}  a task with this id exists; nothing done
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
redis.call('HSET', KEYS[1], 'taskId', ARGV[1], 'userId', ARGV[3], 'status', 'queued', 'runId', ARGV[2],
  'createdAt', ARGV[4], 'updatedAt', ARGV[4], 'title', ARGV[6], 'lastSeq', 0, 'runFromSeq', 0, 'runs', 1, 'order', ARGV[7])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return {'ok', 0}

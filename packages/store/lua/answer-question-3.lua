--[[
  Hand the user's answer to the run waiting on an open question: stores it on the question, marks
  it pending until the run takes it, and tells every worker on the control channel.

  Input:
    KEYS[1] task hash
    KEYS[2] open question hash
    KEYS[3] pending answer (string: questionId)

    ARGV[1] userId (must be the owner)
    ARGV[2] questionId
    ARGV[3] response text
    ARGV[4] control channel (classic pub/sub)
    ARGV[5] TTL seconds of the pending answer

  Output:
    {'ok', runId}  answered; runId is the run that asked
    {'not_found'}  no such task, or no open question with this id
    {'forbidden'}  not the owner
]]
local owner = redis.call('HGET', KEYS[1], 'userId')
if not owner then return {'not_found'} end
if owner ~= ARGV[1] then return {'forbidden'} end
local q = redis.call('HMGET', KEYS[2], 'questionId', 'status', 'runId')
if q[1] ~= ARGV[2] or q[2] ~= 'open' then return {'not_found'} end
redis.call('HSET', KEYS[2], 'status', 'answered', 'response', ARGV[3])
redis.call('SET', KEYS[3], ARGV[2], 'EX', tonumber(ARGV[5]))
redis.call('PUBLISH', ARGV[4], cjson.encode({type = 'answer', taskId = redis.call('HGET', KEYS[1], 'taskId'), runId = q[3], questionId = ARGV[2]}))
return {'ok', q[3]}

/**
 * Lua scripts. Each runs atomically in Redis and touches only keys of one task (one hash tag).
 * Return values are arrays so ioredis hands them back unchanged.
 */

/**
 * Append one event to a task: check the run is the task's current one and has not ended, assign
 * seq (lastSeq + 1), XADD to the history stream with id `<seq>-0`, refresh TTLs (at a run's first and last
 * event and every 32 events), update the
 * task state (running / final status, open question) and SPUBLISH to the task room — so history
 * order is delivery order, and the task is free the moment its terminal event exists.
 * KEYS: task, events, question
 * ARGV: runId, type, envHead, envTail, frameHead, frameTail, channel, maxLen, ttlSeconds, nowMs,
 *       questionId, finalStatus, eventId
 * Returns {seq, receivers}, {seq, -3} (this event id was the last one published: a retry whose
 * first reply was lost; nothing done), {-1, 0} (not the task's current run) or {-2, 0} (run ended).
 */
export const PUBLISH_EVENT = `
local runId = ARGV[1]
local t = redis.call('HMGET', KEYS[1], 'runId', 'status', 'lastEventId', 'lastSeq')
if t[3] == ARGV[13] then return {tonumber(t[4]), -3} end
if t[1] ~= runId then return {-1, 0} end
if t[2] ~= 'queued' and t[2] ~= 'running' then return {-2, 0} end
local seq = (tonumber(t[4]) or 0) + 1
local env = ARGV[3] .. seq .. ARGV[4]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[8], seq .. '-0', 'e', env)
local ttl = tonumber(ARGV[9])
local kind = ARGV[2]
-- TTLs are refreshed at a run's first and last event, at a question (the user may take long to answer)
-- and every 32 events between: a task stays alive while it is active, without two EXPIREs per event.
if seq % 32 == 1 or kind == 'agent_started' or kind == 'agent_question' or ARGV[12] ~= '' or kind == 'agent_error' then
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', KEYS[1], ttl)
end
redis.call('HSET', KEYS[1], 'lastSeq', seq, 'updatedAt', ARGV[10], 'lastEventId', ARGV[13])
if kind == 'agent_started' then
  redis.call('HSET', KEYS[1], 'status', 'running')
elseif ARGV[12] ~= '' then
  redis.call('HSET', KEYS[1], 'status', ARGV[12])
  redis.call('HDEL', KEYS[1], 'cancelRequested')
  redis.call('DEL', KEYS[3])
elseif kind == 'agent_question' then
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[3], 'questionId', ARGV[11], 'runId', runId, 'status', 'open')
  redis.call('EXPIRE', KEYS[3], ttl)
end
local receivers = redis.call('SPUBLISH', ARGV[7], ARGV[5] .. env .. ARGV[6])
return {seq, receivers}
`;

/**
 * Create a task with its first run, queued.
 * KEYS: task   ARGV: taskId, runId, userId, nowMs, ttlSeconds, title, order
 * Returns {'ok', 0} or {'exists'}.
 */
export const CREATE_TASK = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
redis.call('HSET', KEYS[1], 'taskId', ARGV[1], 'userId', ARGV[3], 'status', 'queued', 'runId', ARGV[2],
  'createdAt', ARGV[4], 'updatedAt', ARGV[4], 'title', ARGV[6], 'lastSeq', 0, 'runs', 1, 'order', ARGV[7])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
return {'ok', 0}
`;

/**
 * Start a follow-up run on an existing task: owner only, not while a run is queued or running.
 * KEYS: task   ARGV: runId, userId, nowMs, ttlSeconds
 * Returns {'ok', lastSeq} or {code}.
 */
export const START_RUN = `
local t = redis.call('HMGET', KEYS[1], 'userId', 'status', 'lastSeq')
if not t[1] then return {'not_found'} end
if t[1] ~= ARGV[2] then return {'forbidden'} end
if t[2] == 'queued' or t[2] == 'running' then return {'task_busy'} end
redis.call('HSET', KEYS[1], 'status', 'queued', 'runId', ARGV[1], 'updatedAt', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'runs', 1)
redis.call('HDEL', KEYS[1], 'cancelRequested')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {'ok', tonumber(t[3])}
`;

/**
 * Ask the worker running the task to cancel it.
 * KEYS: task   ARGV: userId, controlChannel
 * Returns {'ok', runId} or {code}.
 */
export const REQUEST_CANCEL = `
local t = redis.call('HMGET', KEYS[1], 'userId', 'status', 'runId')
if not t[1] then return {'not_found'} end
if t[1] ~= ARGV[1] then return {'forbidden'} end
if t[2] ~= 'queued' and t[2] ~= 'running' then return {'task_not_running'} end
redis.call('HSET', KEYS[1], 'cancelRequested', t[3])
redis.call('PUBLISH', ARGV[2], cjson.encode({type = 'cancel', taskId = redis.call('HGET', KEYS[1], 'taskId'), runId = t[3]}))
return {'ok', t[3]}
`;

/**
 * Hand the user's answer to the run waiting on an open question.
 * KEYS: task, question, pendingAnswer   ARGV: userId, questionId, response, controlChannel, ttlSeconds
 * Returns {'ok', runId} or {code}.
 */
export const ANSWER_QUESTION = `
local owner = redis.call('HGET', KEYS[1], 'userId')
if not owner then return {'not_found'} end
if owner ~= ARGV[1] then return {'forbidden'} end
local q = redis.call('HMGET', KEYS[2], 'questionId', 'status', 'runId')
if q[1] ~= ARGV[2] or q[2] ~= 'open' then return {'not_found'} end
redis.call('HSET', KEYS[2], 'status', 'answered', 'response', ARGV[3])
redis.call('SET', KEYS[3], ARGV[2], 'EX', tonumber(ARGV[5]))
redis.call('PUBLISH', ARGV[4], cjson.encode({type = 'answer', taskId = redis.call('HGET', KEYS[1], 'taskId'), runId = q[3], questionId = ARGV[2]}))
return {'ok', q[3]}
`;

/**
 * Mark a queued run failed when it could not be enqueued (so the task is not left busy).
 * KEYS: task   ARGV: runId, nowMs
 */
export const ABANDON_RUN = `
if redis.call('HGET', KEYS[1], 'runId') ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'failed', 'updatedAt', ARGV[2])
return 1
`;

--[[
  Start a follow-up run on an existing task: owner only, not while a run is queued or running. The
  previous run's id, status and updatedAt are kept until the run's job is queued, so the run can be
  undone (abandon-run-1.lua) if queueing fails. `runFromSeq` records the task's last seq before the run
  (its events follow it), so a client can replay the current run from its start.

  Input:
    KEYS[1] task hash

    ARGV[1] runId of the new run
    ARGV[2] userId (must be the owner)
    ARGV[3] now, ms
    ARGV[4] TTL seconds

  Output:
    {'ok', lastSeq}  queued; lastSeq is the task's last seq before the run
    {'not_found'}    no such task
    {'forbidden'}    not the owner
    {'task_busy'}    a run is queued or running
]]
local t = redis.call('HMGET', KEYS[1], 'userId', 'status', 'lastSeq', 'runId', 'updatedAt')
if not t[1] then return {'not_found'} end
if t[1] ~= ARGV[2] then return {'forbidden'} end
if t[2] == 'queued' or t[2] == 'running' then return {'task_busy'} end
redis.call('HSET', KEYS[1], 'status', 'queued', 'runId', ARGV[1], 'updatedAt', ARGV[3], 'runFromSeq', t[3],
  'prevRunId', t[4], 'prevStatus', t[2], 'prevUpdatedAt', t[5])
redis.call('HINCRBY', KEYS[1], 'runs', 1)
redis.call('HDEL', KEYS[1], 'cancelRequested')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {'ok', tonumber(t[3])}

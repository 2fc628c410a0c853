--[[
  Take over a running run whose worker stopped (BullMQ handed its job to another worker): the caller
  becomes the run's owner, so the previous execution, should it still be alive, is fenced off
  (publish-events-n.lua refuses its events), and continues the run at its next index.

  Input:
    KEYS[1] task hash

    ARGV[1] runId
    ARGV[2] owner token of the new execution

  Output:
    {runNext}  claimed; the index the run's next event must have
    {-1}       runId is not the task's current run
    {-2}       the run has ended
    {-7}       the run has not started (still queued)
]]
local t = redis.call('HMGET', KEYS[1], 'runId', 'status', 'runNext')
if t[1] ~= ARGV[1] then return {-1} end
if t[2] == 'queued' then return {-7} end
if t[2] ~= 'running' then return {-2} end
redis.call('HSET', KEYS[1], 'runOwner', ARGV[2])
return {tonumber(t[3]) or 0}

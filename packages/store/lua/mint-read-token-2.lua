--[[
  Mint a read token for a task: checks the owner, drops the task's expired tokens, refuses past the
  per-task limit, stores the new one. The tokens' hash expires with the longest-lived token in it.

  Input:
    KEYS[1] task hash
    KEYS[2] the task's read tokens (hash tokenId -> '<expiresAtMs>:<sha256 of the secret, hex>')

    ARGV[1] userId (must be the owner)
    ARGV[2] tokenId
    ARGV[3] sha256 of the token's secret (hex)
    ARGV[4] now (ms)
    ARGV[5] expiresAt (ms)
    ARGV[6] most live tokens per task

  Output:
    {'ok'}
    {'not_found'}       no such task
    {'forbidden'}       not the owner
    {'limit_exceeded'}  the task already has ARGV[6] live tokens
]]
local owner = redis.call('HGET', KEYS[1], 'userId')
if not owner then return {'not_found'} end
if owner ~= ARGV[1] then return {'forbidden'} end
local now = tonumber(ARGV[4])
local expiresAt = tonumber(ARGV[5])
local rows = redis.call('HGETALL', KEYS[2])
local live = 0
local latest = expiresAt
for i = 1, #rows, 2 do
  local e = tonumber(string.match(rows[i + 1], '^(%d+):'))
  if not e or e <= now then
    redis.call('HDEL', KEYS[2], rows[i])
  else
    live = live + 1
    if e > latest then latest = e end
  end
end
if live >= tonumber(ARGV[6]) then return {'limit_exceeded'} end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[5] .. ':' .. ARGV[3])
redis.call('PEXPIREAT', KEYS[2], latest)
return {'ok'}

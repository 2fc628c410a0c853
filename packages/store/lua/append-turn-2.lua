--[[
  Append one finished run to a task's conversation (what ctx.conversation gives the next run) and keep
  the conversation within its bounds: at most `maxTurns` turns and `maxBytes` bytes of turn JSON; past
  them the oldest turns are dropped (never the one just added). The byte count lives in the task hash
  (`conversationBytes`), so no turn is read to bound it.

  Input:
    KEYS[1] conversation list (turn JSON, oldest first)
    KEYS[2] task hash

    ARGV[1] the turn, JSON
    ARGV[2] maxTurns
    ARGV[3] maxBytes
    ARGV[4] TTL seconds (the task's history TTL)

  Output:
    {turns, bytes, dropped}: turns and bytes kept, turns dropped now
]]
redis.call('RPUSH', KEYS[1], ARGV[1])
local bytes = (tonumber(redis.call('HGET', KEYS[2], 'conversationBytes')) or 0) + #ARGV[1]
local turns = redis.call('LLEN', KEYS[1])
local maxTurns = tonumber(ARGV[2])
local maxBytes = tonumber(ARGV[3])
local dropped = 0
while turns > 1 and (turns > maxTurns or bytes > maxBytes) do
  local oldest = redis.call('LPOP', KEYS[1])
  bytes = bytes - #oldest
  turns = turns - 1
  dropped = dropped + 1
end
redis.call('HSET', KEYS[2], 'conversationBytes', bytes)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {turns, bytes, dropped}

--[[
  Sliding log: at most ARGV[2] entries in any window of ARGV[1] ms, timed by Redis's clock so every
  gateway agrees. (A fixed per-minute window would let a user spend two budgets across a minute
  boundary.)

  Input:
    KEYS[1] the user's command log (sorted set: entry -> time, ms)

    ARGV[1] window, ms
    ARGV[2] entries allowed per window
    ARGV[3] this entry's unique id

  Output:
    0   taken
    >0  refused: ms until the oldest entry leaves the window
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0

--[[
  Register a connection unless the user already holds ARGV[3] live ones (leases not yet expired), in
  one atomic step: two gateways accepting the same user at once cannot both take the last place.
  The key lives at least two leases past now (never shortened): renew-connection-1.lua extends it the
  same way, so the key outlives every lease in it.

  Input:
    KEYS[1] the user's connections (sorted set: connectionId -> lease expiry, ms)

    ARGV[1] now, ms
    ARGV[2] lease, ms
    ARGV[3] max connections per user
    ARGV[4] connectionId

  Output:
    1  registered
    0  the user is at the cap; nothing done
]]
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
local keep = tonumber(ARGV[2]) * 2
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return 1

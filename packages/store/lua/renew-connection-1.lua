--[[
  Renew one live connection's lease, and the user's key with it: a renewal that refreshed only the
  member would leave the key's own TTL (set when a connection opened) to expire, forgetting every
  connection of the user at once, and a user over the cap would be admitted again. A connection that
  holds no lease (released, lapsed, or admitted while the cap could not be checked) is not added back:
  a slot is only ever taken by open-connection-1.lua, under the cap.

  Input:
    KEYS[1] the user's connections (sorted set: connectionId -> lease expiry, ms)

    ARGV[1] now, ms
    ARGV[2] lease, ms
    ARGV[3] connectionId

  Output:
    1  renewed: lease expiry = now + lease; the key lives at least two leases past now
    0  the connection holds no lease; nothing done
]]
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[3])
local keep = tonumber(ARGV[2]) * 2
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
return 1

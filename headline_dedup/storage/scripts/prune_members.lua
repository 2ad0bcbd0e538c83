-- Take members whose records are about to expire out of a cluster that lives on: off its member list, its size,
-- its token counts, and off the document frequencies and the headline count, as expire.lua does for a whole
-- cluster (a member's `tok`, written by commit.lua, is what its commit counted). A member whose record is
-- already gone cannot be counted back: it leaves the list and the size, and its tokens stay in the profile.
-- KEYS: df, meta, aging, the cluster's hash, token counts, members and lent token counts (a member whose record
-- says `lent` = 1 is counted there: the semantic judge joined it), then each leaving member's record.
-- ARGV: cluster id, when its oldest staying member's record expires (epoch seconds; '' if none does), then the
-- leaving members' ids (as many as records in KEYS). Returns the cluster's size after.
local cid, next_due = ARGV[1], ARGV[2]
local removed = 0
for i = 3, #ARGV do
  if redis.call('HDEL', KEYS[6], ARGV[i]) == 1 then
    removed = removed + 1
    local listed, lent = unpack(redis.call('HMGET', KEYS[8 + i - 3], 'tok', 'lent'))
    local counts = lent == '1' and KEYS[7] or KEYS[5]
    if listed then
      for t in string.gmatch(listed, '%S+') do
        if redis.call('HINCRBY', counts, t, -1) <= 0 then redis.call('HDEL', counts, t) end
        if redis.call('HINCRBY', KEYS[1], t, -1) <= 0 then redis.call('HDEL', KEYS[1], t) end
      end
    end
  end
end
if removed == 0 then  -- nothing left (the cluster went meanwhile): write nothing, so as to leave no husk
  redis.call('ZREM', KEYS[3], cid)
  return tonumber(redis.call('HGET', KEYS[4], 'size') or 0)
end
local size = redis.call('HINCRBY', KEYS[4], 'size', -removed)
if redis.call('HINCRBY', KEYS[2], 'total', -removed) < 0 then redis.call('HSET', KEYS[2], 'total', 0) end
if next_due == '' then
  redis.call('ZREM', KEYS[3], cid)
else
  redis.call('ZADD', KEYS[3], next_due, cid)
end
return size

-- Remove clusters past retention: their hashes, their profile and members, their exact-duplicate keys.
-- KEYS: exact, clusters. ARGV: cluster key prefix, cluster ids...
local cpre = ARGV[1]
for i = 2, #ARGV do
  local cid = ARGV[i]
  local listed = redis.call('HGET', cpre .. cid, 'exact')
  if listed then
    for f in string.gmatch(listed, '%S+') do
      if redis.call('HGET', KEYS[1], f) == cid then redis.call('HDEL', KEYS[1], f) end
    end
  end
  redis.call('DEL', cpre .. cid, cpre .. cid .. ':tok', cpre .. cid .. ':m')
  redis.call('ZREM', KEYS[2], cid)
end
return #ARGV - 1

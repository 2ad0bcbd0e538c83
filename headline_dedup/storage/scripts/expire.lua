-- Remove clusters past retention: their hashes, their profile and members, their exact-duplicate keys.
-- KEYS: exact, clusters, then per cluster its hash, token counts and members. ARGV: the cluster ids.
for i = 1, #ARGV do
  local cid, base = ARGV[i], 2 + 3 * (i - 1)
  local listed = redis.call('HGET', KEYS[base + 1], 'exact')
  if listed then
    for f in string.gmatch(listed, '%S+') do
      if redis.call('HGET', KEYS[1], f) == cid then redis.call('HDEL', KEYS[1], f) end
    end
  end
  redis.call('DEL', KEYS[base + 1], KEYS[base + 2], KEYS[base + 3])
  redis.call('ZREM', KEYS[2], cid)
end
return #ARGV

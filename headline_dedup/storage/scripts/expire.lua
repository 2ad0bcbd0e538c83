-- Remove clusters past retention: their hashes, their profile and members, their exact-duplicate keys, and
-- what their headlines added to the document frequencies and the headline count (a cluster's token counts are
-- its members' tokens, counted as the frequencies count them), so those cover the retained headlines only.
-- KEYS: exact, clusters, df, meta, aging, then per cluster its hash, token counts, members and lent token counts
-- (the members the profile does not count). ARGV: the cluster ids.
for i = 1, #ARGV do
  local cid, base = ARGV[i], 5 + 4 * (i - 1)
  local listed = redis.call('HGET', KEYS[base + 1], 'exact')
  if listed then
    for f in string.gmatch(listed, '%S+') do
      if redis.call('HGET', KEYS[1], f) == cid then redis.call('HDEL', KEYS[1], f) end
    end
  end
  for _, held in ipairs({base + 2, base + 4}) do
    local counts = redis.call('HGETALL', KEYS[held])
    for j = 1, #counts, 2 do
      if redis.call('HINCRBY', KEYS[3], counts[j], -tonumber(counts[j + 1])) <= 0 then
        redis.call('HDEL', KEYS[3], counts[j])
      end
    end
  end
  local size = tonumber(redis.call('HGET', KEYS[base + 1], 'size') or 0)
  if size > 0 and redis.call('HINCRBY', KEYS[4], 'total', -size) < 0 then redis.call('HSET', KEYS[4], 'total', 0) end
  redis.call('DEL', KEYS[base + 1], KEYS[base + 2], KEYS[base + 3], KEYS[base + 4])
  redis.call('ZREM', KEYS[2], cid)
  redis.call('ZREM', KEYS[5], cid)
end
return #ARGV

-- What deciding a batch needs, first half: who owns its exact keys, the headline count, and the cluster of each
-- candidate. KEYS: exact, meta, then each candidate's headline record. ARGV: the exact-key fields.
-- Returns one JSON document {exact cluster ids, total, candidate cluster ids, the candidates an editor placed}.
-- (The clusters named are then loaded by load_clusters.lua: a script touches only the keys it declares, and
-- which clusters to read is known only once this one has answered.)
local exact = {}
for i = 1, #ARGV, 1000 do  -- stay below Lua's unpack limit
  local chunk = {}
  for j = i, math.min(i + 999, #ARGV) do chunk[#chunk + 1] = ARGV[j] end
  local got = redis.call('HMGET', KEYS[1], unpack(chunk))
  for j = 1, #got do exact[#exact + 1] = got[j] end
end
local total = redis.call('HGET', KEYS[2], 'total') or '0'
local assigned, placed = {}, {}
for i = 3, #KEYS do
  local got = redis.call('HMGET', KEYS[i], 'cluster_id', 'placed_by')
  assigned[i - 2] = got[1] or false
  if got[2] then placed[#placed + 1] = i - 2 end
end
return cjson.encode({exact, total, assigned, placed})

-- Everything deciding a batch needs, in one round trip. KEYS: exact, meta, df. ARGV: headline key prefix,
-- cluster key prefix, then three counted lists: exact-key fields, candidate headline ids, batch tokens.
-- Returns one JSON document {exact cluster ids, total, candidate cluster ids, clusters, the needed tokens' df,
-- the candidates an editor placed}; a cluster is [id, size, rep_id, rep_tokens (JSON), token counts, rep_kicker,
-- latest, the clusters an editor set apart from it (space-separated)]. One string rather than
-- nested replies: a batch that loads big clusters carries hundreds of thousands of values, and a reply of that
-- many items costs the client far more to parse than one JSON string. (cjson writes an empty table as {}.)
local hpre, cpre = ARGV[1], ARGV[2]
local pos = 3
local function list()
  local n, out = tonumber(ARGV[pos]), {}
  for i = 1, n do out[i] = ARGV[pos + i] end
  pos = pos + n + 1
  return out
end
local fields, cands, tokens = list(), list(), list()
local function hmget(key, names)
  local out = {}
  for i = 1, #names, 1000 do -- stay below Lua's unpack limit
    local chunk = {}
    for j = i, math.min(i + 999, #names) do chunk[#chunk + 1] = names[j] end
    local got = redis.call('HMGET', key, unpack(chunk))
    for j = 1, #got do out[#out + 1] = got[j] end
  end
  return out
end
local exact = #fields > 0 and hmget(KEYS[1], fields) or {}
local total = redis.call('HGET', KEYS[2], 'total') or '0'
local assigned, wanted, order = {}, {}, {}
local function want(cid)
  if cid and not wanted[cid] then wanted[cid] = true; order[#order + 1] = cid end
end
for i = 1, #exact do want(exact[i]) end
local placed = {}
for i = 1, #cands do
  local got = redis.call('HMGET', hpre .. cands[i], 'cluster_id', 'placed_by')
  assigned[i] = got[1] or false
  if got[2] then placed[#placed + 1] = cands[i] end
  want(assigned[i])
end
local clusters, needed, seen = {}, {}, {}
for i = 1, #tokens do if not seen[tokens[i]] then seen[tokens[i]] = true; needed[#needed + 1] = tokens[i] end end
for _, cid in ipairs(order) do
  local meta = redis.call('HMGET', cpre .. cid, 'size', 'rep_id', 'rep_tokens', 'rep_kicker', 'latest', 'last_seen',
                          'apart')
  if meta[1] then
    local flat, counts = redis.call('HGETALL', cpre .. cid .. ':tok'), {}
    for j = 1, #flat, 2 do
      local t = flat[j]
      counts[t] = tonumber(flat[j + 1])
      if not seen[t] then seen[t] = true; needed[#needed + 1] = t end
    end
    -- (a cluster written before `latest` existed: its last update stands in for its newest member)
    clusters[#clusters + 1] = {cid, meta[1], meta[2] or '', meta[3] or '[]', counts, meta[4] or '0',
                               meta[5] or meta[6] or '0', meta[7] or ''}
  end
end
local df = #needed > 0 and hmget(KEYS[3], needed) or {}
local counted = {}
for i = 1, #needed do
  if df[i] then counted[needed[i]] = tonumber(df[i]) end
end
return cjson.encode({exact, total, assigned, clusters, counted, placed})

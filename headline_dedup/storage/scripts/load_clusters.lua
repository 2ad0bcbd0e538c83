-- What deciding a batch needs, second half: the clusters load_assignments.lua named, and the document
-- frequencies of the batch's tokens and of the clusters' tokens. KEYS: df, then per cluster its hash and its
-- token counts. ARGV: the number of batch tokens, the tokens, then the cluster ids.
-- Returns one JSON document {clusters, the needed tokens' df}; a cluster is [id, size, rep_id, rep_tokens (JSON),
-- token counts, rep_kicker, latest, the clusters an editor set apart from it (space-separated)]. One string
-- rather than nested replies: a batch that loads big clusters carries hundreds of thousands of values, and a
-- reply of that many items costs the client far more to parse than one JSON string. (cjson writes an empty
-- table as {}.)
local ntokens = tonumber(ARGV[1])
local needed, seen = {}, {}
for i = 2, ntokens + 1 do
  local t = ARGV[i]
  if not seen[t] then seen[t] = true; needed[#needed + 1] = t end
end
local clusters = {}
for i = ntokens + 2, #ARGV do
  local cid, base = ARGV[i], 1 + 2 * (i - ntokens - 2)
  local meta = redis.call('HMGET', KEYS[base + 1], 'size', 'rep_id', 'rep_tokens', 'rep_kicker', 'latest',
                          'last_seen', 'apart')
  if meta[1] then
    local flat, counts = redis.call('HGETALL', KEYS[base + 2]), {}
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
local df = {}
for i = 1, #needed, 1000 do
  local chunk = {}
  for j = i, math.min(i + 999, #needed) do chunk[#chunk + 1] = needed[j] end
  local got = redis.call('HMGET', KEYS[1], unpack(chunk))
  for j = 1, #got do df[#df + 1] = got[j] end
end
local counted = {}
for i = 1, #needed do
  if df[i] then counted[needed[i]] = tonumber(df[i]) end
end
return cjson.encode({clusters, counted})

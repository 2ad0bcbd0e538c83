-- A batch's outcome, written at once (the caller wraps this in MULTI with its events and acks).
-- KEYS: df, meta, exact, clusters, aging, then every headline and cluster key the outcome touches (Redis Cluster
-- wants each key a script uses declared; `key` refuses one that is not). ARGV: headline key prefix, cluster key prefix,
-- now, outcome JSON, retention of headline records in seconds (0: none). The outcome JSON:
-- {df = {token: n}, counted = n, exact = {field: cluster}, decisions = {{id, cluster|"" , reason, score,
--  created, tokens, lent}}, profiles = {{cluster, size, rep_id, rep_tokens_json, rep_kicker, latest}}}; `lent`:
-- the profile does not count the headline's words (the semantic judge joined it), its cluster's `lent` does.
local hpre, cpre, now, retention = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[5])
local o = cjson.decode(ARGV[4])
local declared = {}
for i = 6, #KEYS do declared[KEYS[i]] = true end
local function key(name)
  if not declared[name] then error('commit.lua: undeclared key ' .. name) end
  return name
end
for t, n in pairs(o.df) do redis.call('HINCRBY', KEYS[1], t, n) end
if o.counted > 0 then redis.call('HINCRBY', KEYS[2], 'total', o.counted) end
-- An exact key is owned by the first cluster to record it, and listed in that cluster's `exact` field so that
-- the cluster's expiry removes it. A key left pointing at a cluster that no longer exists is taken over (the
-- owners the batch's load saw are declared; one that is not cannot have been seen gone, and is kept).
for f, cid in pairs(o.exact) do
  local owned = redis.call('HSETNX', KEYS[3], f, cid)
  local owner = owned == 0 and cpre .. redis.call('HGET', KEYS[3], f)
  if owner and declared[owner] and redis.call('EXISTS', owner) == 0 then
    redis.call('HSET', KEYS[3], f, cid)
    owned = 1
  end
  if owned == 1 then
    local listed = redis.call('HGET', key(cpre .. cid), 'exact')
    redis.call('HSET', key(cpre .. cid), 'exact', listed and (listed .. ' ' .. f) or f)
  end
end
local newest_ttl = {}  -- cluster -> TTL (ms) of the record of a headline that just joined it
local oldest_ttl = {}  -- cluster -> the shortest of those TTLs
for _, d in ipairs(o.decisions) do
  local id, cid, reason, score = d[1], d[2], d[3], d[4]
  local hkey = key(hpre .. id)
  if cid == '' then
    redis.call('HSET', hkey, 'status', 'rejected', 'reason', reason)
  else
    -- `tok`: what this commit counts for the headline, taken back when it leaves a cluster that lives on.
    redis.call('HSET', hkey, 'status', 'clustered', 'cluster_id', cid, 'reason', reason, 'score', score,
               'clustered_at', now, 'tok', table.concat(d[6], ' '), 'lent', d[7] and '1' or '0')
  end
  -- A record that expired while queued is re-created by HSET: give it the retention again.
  local ttl = redis.call('PTTL', hkey)
  if ttl == -1 and retention > 0 then
    redis.call('EXPIRE', hkey, retention)
    ttl = retention * 1000
  end
  if cid ~= '' then
    newest_ttl[cid] = ttl
    if ttl > 0 and (oldest_ttl[cid] == nil or ttl < oldest_ttl[cid]) then oldest_ttl[cid] = ttl end
    local counts = key(cpre .. cid .. (d[7] and ':lent' or ':tok'))
    for _, t in ipairs(d[6]) do redis.call('HINCRBY', counts, t, 1) end
    redis.call('HSET', key(cpre .. cid .. ':m'), id, score)
    if d[5] then redis.call('HSETNX', key(cpre .. cid), 'first_seen', now) end
  end
end
for _, p in ipairs(o.profiles) do
  redis.call('HSET', key(cpre .. p[1]), 'size', p[2], 'rep_id', p[3], 'rep_tokens', p[4], 'rep_kicker', p[5],
             'latest', p[6], 'last_seen', now)
  redis.call('ZADD', KEYS[4], now, p[1])
  -- The representative's record lives as long as the cluster's newest member's: a story that runs for weeks
  -- keeps a readable representative. (EXPIRE ... GT is Redis 7 only.)
  local ttl = newest_ttl[p[1]]
  if ttl and ttl > 0 and p[3] ~= '' then
    local rep = key(hpre .. p[3])
    local current = redis.call('PTTL', rep)
    if current >= 0 and current < ttl then redis.call('PEXPIRE', rep, ttl) end
  end
  -- When the cluster's oldest member's record expires (LT keeps the earliest; Redis 6.2): see prune_members.lua.
  if oldest_ttl[p[1]] then redis.call('ZADD', KEYS[5], 'LT', tonumber(now) + oldest_ttl[p[1]] / 1000, p[1]) end
end
return #o.decisions

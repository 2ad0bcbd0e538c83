-- A batch's outcome, written at once (the caller wraps this in MULTI with its events and acks).
-- KEYS: df, meta, exact, clusters. ARGV: headline key prefix, cluster key prefix, now, outcome JSON:
-- {df = {token: n}, counted = n, exact = {field: cluster}, decisions = {{id, cluster|"" , reason, score,
--  created, tokens}}, profiles = {{cluster, size, rep_id, rep_tokens_json, rep_kicker}}}.
local hpre, cpre, now = ARGV[1], ARGV[2], ARGV[3]
local o = cjson.decode(ARGV[4])
for t, n in pairs(o.df) do redis.call('HINCRBY', KEYS[1], t, n) end
if o.counted > 0 then redis.call('HINCRBY', KEYS[2], 'total', o.counted) end
-- An exact key is owned by the first cluster to record it, and listed in that cluster's `exact` field so that
-- the cluster's expiry removes it. A key left pointing at a cluster that no longer exists is taken over.
for f, cid in pairs(o.exact) do
  local owned = redis.call('HSETNX', KEYS[3], f, cid)
  if owned == 0 and redis.call('EXISTS', cpre .. redis.call('HGET', KEYS[3], f)) == 0 then
    redis.call('HSET', KEYS[3], f, cid)
    owned = 1
  end
  if owned == 1 then
    local listed = redis.call('HGET', cpre .. cid, 'exact')
    redis.call('HSET', cpre .. cid, 'exact', listed and (listed .. ' ' .. f) or f)
  end
end
for _, d in ipairs(o.decisions) do
  local id, cid, reason, score = d[1], d[2], d[3], d[4]
  if cid == '' then
    redis.call('HSET', hpre .. id, 'status', 'rejected', 'reason', reason)
  else
    redis.call('HSET', hpre .. id, 'status', 'clustered', 'cluster_id', cid, 'reason', reason, 'score', score,
               'clustered_at', now)
    for _, t in ipairs(d[6]) do redis.call('HINCRBY', cpre .. cid .. ':tok', t, 1) end
    redis.call('HSET', cpre .. cid .. ':m', id, score)
    if d[5] then redis.call('HSETNX', cpre .. cid, 'first_seen', now) end
  end
end
for _, p in ipairs(o.profiles) do
  redis.call('HSET', cpre .. p[1], 'size', p[2], 'rep_id', p[3], 'rep_tokens', p[4], 'rep_kicker', p[5],
             'last_seen', now)
  redis.call('ZADD', KEYS[4], now, p[1])
end
return #o.decisions

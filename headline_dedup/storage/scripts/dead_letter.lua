-- Dead-letter one ingest entry in one step: keep it with its error in the capped dead stream, mark its headline
-- dead if the record still exists (an expired record is not re-created), acknowledge and delete the entry,
-- and publish the headline.rejected event.
-- KEYS: dead, headline, ingest, events.
-- ARGV: group, entry id, dead maxlen, reason, record ttl, events maxlen, event data, then the dead entry's
-- field/value pairs.
local group, mid, maxlen, reason = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ttl, events_maxlen, data = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local dead_id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', unpack(ARGV, 8))
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HSET', KEYS[2], 'status', 'dead', 'reason', reason)
  -- a record written without retention would otherwise outlive every other one
  if ttl > 0 and redis.call('TTL', KEYS[2]) == -1 then redis.call('EXPIRE', KEYS[2], ttl) end
end
redis.call('XACK', KEYS[3], group, mid)
redis.call('XDEL', KEYS[3], mid)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', events_maxlen, '*', 'type', 'headline.rejected', 'data', data)
return dead_id

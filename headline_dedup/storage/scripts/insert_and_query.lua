-- Atomic insert-and-query over time-bucketed band hashes: for each entry in order, collect the ids that share
-- a band in any bucket of the window, then add the entry to the current bucket, unless the current bucket
-- already holds a headline with the very same signature (it shares every band: re-sends and re-scrapes
-- would otherwise pile up in every band). A headline processed twice is not added twice.
-- An entry that carries word-vector rows is also appended to the `near` stream (the index by meaning that
-- workers mirror), in the same step, and the stream is trimmed to the window.
-- KEYS: bucket hashes, current first, then the meta hash (its `indexed` counts entries added), then the near
-- stream.
-- ARGV: ttl, bands per entry, band field length, entry count, the near stream's oldest id to keep ("0": no
-- trim), then per entry its id, its band fields concatenated, its word rows (packed, maybe empty) and its time.
-- Returns, per entry, the found ids joined by commas, then the ids of the first and last entries it appended to
-- the near stream, joined by a space ("" when it appended none).
local ttl, bands, flen, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local near_minid = ARGV[5]
local MAX_IDS_BYTES = 4096 -- a band shared by very many headlines keeps only its most recent ids
local out, pos, added = {}, 6, 0
local buckets = #KEYS - 2
local near = KEYS[#KEYS]
local near_first, near_last
for _ = 1, count do
  local id, packed, words, at = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3]
  pos = pos + 4
  local fields = {}
  for b = 1, bands do fields[b] = string.sub(packed, (b - 1) * flen + 1, b * flen) end
  -- One HMGET per bucket and one HSET for the current bucket's changed fields: a script's redis.call costs
  -- far more than the field lookups it does, and a headline touches 42 bands in 4 buckets.
  local current = {}
  local seen, found, in_current, listed, twin = {}, {}, {}, {}, false
  for k = 1, buckets do
    local got = redis.call('HMGET', KEYS[k], unpack(fields))
    if k == 1 then current = got end
    for b = 1, bands do
      local ids = got[b]
      if ids then
        for other in string.gmatch(ids, '[^,]+') do
          if other == id then
            if k == 1 then listed[b] = true end
          else
            if not seen[other] then
              seen[other] = true
              found[#found + 1] = other
            end
            if k == 1 then
              local n = (in_current[other] or 0) + 1
              in_current[other] = n
              if n == bands then twin = true end
            end
          end
        end
      end
    end
  end
  local changed = false
  if not twin then
    local writes = {}
    for b = 1, bands do
      local ids = current[b]
      if not ids then
        writes[#writes + 1] = fields[b]
        writes[#writes + 1] = id .. ','
      elseif not listed[b] then
        ids = ids .. id .. ','
        if #ids > MAX_IDS_BYTES then
          ids = string.sub(ids, string.find(ids, ',', #ids - math.floor(MAX_IDS_BYTES / 2), true) + 1)
        end
        writes[#writes + 1] = fields[b]
        writes[#writes + 1] = ids
      end
    end
    if #writes > 0 then
      redis.call('HSET', KEYS[1], unpack(writes))
      changed = true
      added = added + 1
    end
  end
  -- The index by meaning holds every headline, twins included (as the in-memory one does): a twin is appended
  -- each time its batch runs, a new headline only the first time (a retried batch changes no band); the
  -- workers' mirrors skip ids they hold.
  if #words > 0 and (twin or changed) then
    if near_minid ~= '0' then
      near_last = redis.call('XADD', near, 'MINID', '~', near_minid, '*', 'id', id, 't', at, 'w', words)
    else
      near_last = redis.call('XADD', near, '*', 'id', id, 't', at, 'w', words)
    end
    near_first = near_first or near_last
  end
  out[#out + 1] = table.concat(found, ',') -- one bulk string: far cheaper for the client to parse
end
redis.call('EXPIRE', KEYS[1], ttl)
if added > 0 then redis.call('HINCRBY', KEYS[buckets + 1], 'indexed', added) end
out[#out + 1] = near_first and (near_first .. ' ' .. near_last) or ''
return out

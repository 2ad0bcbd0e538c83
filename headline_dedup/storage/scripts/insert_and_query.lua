-- Atomic insert-and-query over time-bucketed band hashes: for each entry in order, collect the ids that share
-- a band in any bucket of the window, then add the entry to the current bucket. A headline processed twice is
-- not added twice. KEYS: bucket hashes, current first. ARGV: ttl, bands per entry, entry count, then per
-- entry its id followed by its band fields.
local ttl, bands, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local MAX_IDS_BYTES = 4096 -- a band shared by very many headlines keeps only its most recent ids
local out, pos = {}, 4
for _ = 1, count do
  local id = ARGV[pos]
  pos = pos + 1
  local seen, found = {}, {}
  for _ = 1, bands do
    local field = ARGV[pos]
    pos = pos + 1
    for k = 1, #KEYS do
      local ids = redis.call('HGET', KEYS[k], field)
      if ids then
        for other in string.gmatch(ids, '[^,]+') do
          if other ~= id and not seen[other] then
            seen[other] = true
            found[#found + 1] = other
          end
        end
      end
    end
    local current = redis.call('HGET', KEYS[1], field)
    if not current then
      redis.call('HSET', KEYS[1], field, id .. ',')
    elseif not string.find(',' .. current, ',' .. id .. ',', 1, true) then
      current = current .. id .. ','
      if #current > MAX_IDS_BYTES then
        current = string.sub(current, string.find(current, ',', #current - math.floor(MAX_IDS_BYTES / 2), true) + 1)
      end
      redis.call('HSET', KEYS[1], field, current)
    end
  end
  out[#out + 1] = found
end
redis.call('EXPIRE', KEYS[1], ttl)
return out

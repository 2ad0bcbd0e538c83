-- The band index of a namespace: one hash used as a linear-hashing table of packed entries. An entry is a band's
-- 4-byte key, a headline's id (6 bytes) and the time bucket it was added in (2 bytes, modulo 65536); a band key's
-- low bits (as many as the table's level) pick the field that holds its entries, with those of a dozen other band
-- keys. One field per band key cost 80 B of hash bookkeeping per band; a shared field costs a tenth of that per
-- entry, and a headline reads one HMGET and writes one HSET. The table grows one field split at a time (`#L`
-- level, `#p` next field to split, `#n` entries): no write rehashes it. An entry counts while its bucket is in the
-- window; expired entries go when their field is next written, or when a sweep passes (`#s` its cursor).
--
-- mode 'insert' or 'query': for each entry in order, collect the ids that share a band within the window, then
-- (insert) add the entry, unless a headline with the very same signature was added in the current bucket (it
-- shares every band: re-sends and re-scrapes would otherwise pile up in every band). A headline processed twice
-- in a bucket is not added twice. An entry that carries word-vector rows is also appended to the `near` stream
-- (the index by meaning that workers mirror), in the same step, and the stream is trimmed to the window.
--   KEYS: the table, the meta hash (its `indexed` counts entries added), the near stream.
--   ARGV: mode, ttl, bands per entry, entry count, the near stream's oldest id to keep ("0": no trim), current
--   bucket, buckets in the window before it, the table's `level:split` the caller named fields with, how many of
--   a band key's newest headlines are candidates (its fan-out; the older ones still count as twins), then per
--   entry its decimal id, its 4-byte band keys concatenated, their 3-byte field names concatenated, its word rows
--   (packed, maybe empty), its time, and "1" if it is a copy: its text was seen before, so its twin decides it
--   and it is not searched; it is added only if no headline with its first two band keys is in the current
--   bucket (half a scraped feed is copies: this spares them reading every band).
--   Returns, per entry, the found ids joined by commas, then the ids of the first and last entries it appended to
--   the near stream, joined by a space ("" when it appended none), then the table's `level:split`.
-- mode 'adopt': add entries as they are (the earlier layout's, moved here).
--   KEYS: the table. ARGV: mode, ttl, the entries concatenated. Returns how many.
-- mode 'sweep': drop the expired entries of up to ARGV[2] fields from the cursor on.
--   KEYS: the table. ARGV: mode, fields, current bucket, buckets in the window before it.
--   Returns {entries dropped, fields visited}.
local ENTRY, KEY, ID = 12, 4, 6
local MIN_LEVEL = 10 -- a new table starts with 1,024 fields
local LOAD = 12 -- entries per field, on average, before the table splits a field
local MAX_SAME = 500 -- a band key shared by very many headlines keeps only its most recent ones
local MAX_LEVEL = 23 -- field names are 3 bytes: 2^24 fields, 200 million entries
local CHUNK = 1000 -- fields one HMGET reads when splitting or sweeping (unpack takes 8,000 values: 4 per field)
local mode = ARGV[1]
local tkey = KEYS[1]

local got = redis.call('HMGET', tkey, '#L', '#p', '#n', '#s')
local level = tonumber(got[1]) or MIN_LEVEL
local t = {size = 2 ^ level, level = level, split = tonumber(got[2]) or 0, n = tonumber(got[3]) or 0}
local cursor = tonumber(got[4]) or 0

local current, window
local function age_of(v, at) -- in buckets, of the entry at `at` (string.byte makes no string to collect)
  local lo, hi = string.byte(v, at + KEY + ID, at + ENTRY - 1)
  return (current - lo - 256 * hi) % 65536
end

local function expired(v, at) -- the entry at `at` is older than the window (a later bucket is not: backfills)
  local age = age_of(v, at)
  return age > window and age < 32768
end

local function field_of(h) -- a field's name is its number as 3 bytes: no number-to-text conversion
  local a = h % t.size
  if a < t.split then a = h % (2 * t.size) end
  return struct.pack('<I3', a)
end

local function kept(v) -- the entries of `v` still in the window, and how many were dropped
  local keep, dropped = {}, 0
  for at = 1, #v, ENTRY do
    if expired(v, at) then dropped = dropped + 1 else keep[#keep + 1] = string.sub(v, at, at + ENTRY - 1) end
  end
  return keep, dropped
end

-- Splits fields until the load is back under LOAD: field `split` shares its entries with field `split + size`
-- by one more bit of their band keys (bit `level`, read from the entry's bytes).
local function grow()
  while t.n > LOAD * (t.size + t.split) and t.level < MAX_LEVEL do
    local last = math.min(t.size - 1, t.split + math.ceil(t.n / LOAD - t.size - t.split) - 1, t.split + CHUNK - 1)
    local names = {}
    for a = t.split, last do names[#names + 1] = struct.pack('<I3', a) end
    local values = redis.call('HMGET', tkey, unpack(names))
    local writes, gone = {}, {}
    local byte, unit = math.floor(t.level / 8), 2 ^ (t.level % 8)
    for i = 1, #names do
      local v = values[i]
      if v then
        local low, high = {}, {}
        for at = 1, #v, ENTRY do
          local e = string.sub(v, at, at + ENTRY - 1)
          if math.floor(string.byte(v, at + byte) / unit) % 2 == 1 then high[#high + 1] = e else low[#low + 1] = e end
        end
        if #low > 0 then
          writes[#writes + 1] = names[i]; writes[#writes + 1] = table.concat(low)
        else
          gone[#gone + 1] = names[i]
        end
        if #high > 0 then
          writes[#writes + 1] = struct.pack('<I3', t.split + i - 1 + t.size); writes[#writes + 1] = table.concat(high)
        end
      end
    end
    if #writes > 0 then redis.call('HSET', tkey, unpack(writes)) end
    if #gone > 0 then redis.call('HDEL', tkey, unpack(gone)) end
    t.split = last + 1
    if t.split == t.size then t.level, t.size, t.split = t.level + 1, 2 * t.size, 0 end
  end
end

if mode == 'adopt' then
  local entries = ARGV[3]
  local by_field, names = {}, {}
  for at = 1, #entries, ENTRY do
    local e = string.sub(entries, at, at + ENTRY - 1)
    local name = field_of(struct.unpack('<I4', e))
    if not by_field[name] then by_field[name] = {}; names[#names + 1] = name end
    table.insert(by_field[name], e)
  end
  for first = 1, #names, CHUNK do
    local chunk = {}
    for i = first, math.min(first + CHUNK - 1, #names) do chunk[#chunk + 1] = names[i] end
    local values = redis.call('HMGET', tkey, unpack(chunk))
    local writes = {}
    for i, name in ipairs(chunk) do
      writes[#writes + 1] = name; writes[#writes + 1] = (values[i] or '') .. table.concat(by_field[name])
    end
    redis.call('HSET', tkey, unpack(writes))
  end
  t.n = t.n + #entries / ENTRY
  grow()
  redis.call('HSET', tkey, '#L', t.level, '#p', t.split, '#n', t.n)
  redis.call('EXPIRE', tkey, tonumber(ARGV[2]))
  return #entries / ENTRY
end

if mode == 'sweep' then
  if redis.call('EXISTS', tkey) == 0 then return {0, 0} end -- gone with its TTL: nothing to sweep
  current, window = tonumber(ARGV[3]), tonumber(ARGV[4])
  local fields = t.size + t.split
  local names = {}
  for i = 0, math.min(tonumber(ARGV[2]), fields, CHUNK) - 1 do
    names[#names + 1] = struct.pack('<I3', (cursor + i) % fields)
  end
  if #names == 0 then return {0, 0} end
  local values = redis.call('HMGET', tkey, unpack(names))
  local writes, gone, dropped = {}, {}, 0
  for i = 1, #names do
    if values[i] then
      local keep, d = kept(values[i])
      if d > 0 then
        dropped = dropped + d
        if #keep > 0 then writes[#writes + 1] = names[i]; writes[#writes + 1] = table.concat(keep)
        else gone[#gone + 1] = names[i] end
      end
    end
  end
  if #writes > 0 then redis.call('HSET', tkey, unpack(writes)) end
  if #gone > 0 then redis.call('HDEL', tkey, unpack(gone)) end
  redis.call('HSET', tkey, '#s', (cursor + #names) % fields, '#n', t.n - dropped)
  return {dropped, #names}
end

local writing = mode == 'insert'
local ttl, bands, count = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local near_minid = ARGV[5]
current, window = tonumber(ARGV[6]), tonumber(ARGV[7])
-- The caller names each band's field from the table's level and split it last saw: right unless another process
-- wrote since (then the names are computed here).
local named = ARGV[8] == t.level .. ':' .. t.split
local fanout = tonumber(ARGV[9])
local stamp = struct.pack('<I2', current % 65536)
local out, pos, added = {}, 10, 0
local near_first, near_last

-- The ids of the entries of `v` holding band key `k` in the current bucket.
local function current_ids(v, k)
  local ids, s = {}, 1
  while v do
    local hit = string.find(v, k, s, true)
    if not hit then break end
    if (hit - 1) % ENTRY == 0 then
      if age_of(v, hit) == 0 then ids[string.sub(v, hit + KEY, hit + KEY + ID - 1)] = true end
      s = hit + ENTRY
    else
      s = hit + 1
    end
  end
  return ids
end

-- Whether a copy's first two bands already hold one headline in the current bucket (its twin, or itself).
local function refreshed(keys, names)
  local v = redis.call('HMGET', tkey, names[1], names[2])
  local first = current_ids(v[1], keys[1])
  for other in pairs(current_ids(v[2], keys[2])) do
    if first[other] then return true end
  end
  return false
end

for _ = 1, count do
  local id, packed, fields, words, at = ARGV[pos], ARGV[pos + 1], ARGV[pos + 2], ARGV[pos + 3], ARGV[pos + 4]
  local copy = ARGV[pos + 5] == '1'
  pos = pos + 6
  local me = struct.pack('<I6', tonumber(id))
  local keys, names = {}, {}
  for b = 1, bands do
    keys[b] = string.sub(packed, (b - 1) * KEY + 1, b * KEY)
    if named then names[b] = string.sub(fields, (b - 1) * 3 + 1, b * 3)
    else names[b] = field_of(struct.unpack('<I4', keys[b])) end
  end
  local skipped = writing and copy and bands >= 2 and refreshed(keys, names)
  local values = skipped and {} or redis.call('HMGET', tkey, unpack(names))
  local seen, found, in_current, listed, twin = {}, {}, {}, {}, skipped
  local same, oldest = {}, {}
  for b = 1, bands do
    local v = values[b]
    if v then
      local s, hits = 1, {}
      while true do
        local hit = string.find(v, keys[b], s, true)
        if not hit then break end
        if (hit - 1) % ENTRY == 0 then
          local age = age_of(v, hit)
          if age <= window then
            local other = string.sub(v, hit + KEY, hit + KEY + ID - 1)
            if other == me then
              if age == 0 then listed[b] = true end
            else
              hits[#hits + 1] = other
              if age == 0 then
                local n = (in_current[other] or 0) + 1
                in_current[other] = n
                if n == bands then twin = true end
              end
              same[b] = (same[b] or 0) + 1
              oldest[b] = oldest[b] or hit
            end
          end
          s = hit + ENTRY
        else
          s = hit + 1
        end
      end
      for i = math.max(1, #hits - fanout + 1), #hits do -- a field keeps its entries in the order they came
        local other = hits[i]
        if not seen[other] then
          seen[other] = true
          found[#found + 1] = string.format('%d', struct.unpack('<I6', other))
        end
      end
    end
  end
  local changed = false
  if writing and not twin then
    local updated, order = {}, {} -- two bands may pick one field: the second appends to the first's value
    for b = 1, bands do
      if not listed[b] then
        local name = names[b]
        local v = updated[name]
        if v == nil then
          v = values[b] or ''
          order[#order + 1] = name
          if (same[b] or 0) >= MAX_SAME then
            v = string.sub(v, 1, oldest[b] - 1) .. string.sub(v, oldest[b] + ENTRY)
            t.n = t.n - 1
          end
          while #v > 0 and expired(v, 1) do
            v = string.sub(v, ENTRY + 1); t.n = t.n - 1
          end
        end
        updated[name] = v .. keys[b] .. me .. stamp
        t.n = t.n + 1
      end
    end
    if #order > 0 then
      local writes = {}
      for _, name in ipairs(order) do writes[#writes + 1] = name; writes[#writes + 1] = updated[name] end
      redis.call('HSET', tkey, unpack(writes))
      changed = true
      added = added + 1
    end
  end
  -- The index by meaning holds every headline, twins included (as the in-memory one does): a twin is appended
  -- each time its batch runs, a new headline only the first time (a retried batch changes no band); the
  -- workers' mirrors skip ids they hold.
  if writing and #words > 0 and (twin or changed) then
    if near_minid ~= '0' then
      near_last = redis.call('XADD', KEYS[3], 'MINID', '~', near_minid, '*', 'id', id, 't', at, 'w', words)
    else
      near_last = redis.call('XADD', KEYS[3], '*', 'id', id, 't', at, 'w', words)
    end
    near_first = near_first or near_last
  end
  out[#out + 1] = table.concat(found, ',') -- one bulk string: far cheaper for the client to parse
end
if writing then
  grow()
  redis.call('HSET', tkey, '#L', t.level, '#p', t.split, '#n', t.n)
  redis.call('EXPIRE', tkey, ttl)
  if added > 0 then redis.call('HINCRBY', KEYS[2], 'indexed', added) end
end
out[#out + 1] = near_first and (near_first .. ' ' .. near_last) or ''
out[#out + 1] = t.level .. ':' .. t.split
return out

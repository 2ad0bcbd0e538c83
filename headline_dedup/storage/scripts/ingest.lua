-- Idempotent, atomic ingest of a batch. KEYS: ingest stream, seq, meta (its `received` counts the headlines
-- stored: ids increase but may skip), then one idempotency key per item, then the records of the headlines those
-- keys held when the caller read them, then the records of the ids it reserved (INCRBY seq) for the new ones:
-- Redis Cluster wants each key a script uses declared, and a new headline's id is its record's key. A refused
-- batch gives its reserved ids back when no one reserved after it.
-- ARGV: ttl, item count, now, request id, max backlog, headline key prefix, then one JSON object per item, then
-- per item the id its key held when read ('' for none), then the reserved ids.
-- Returns {headline id, 1 if new} per item.
-- A message carries `event_at` when the item's publication time is usable as its event time; the record keeps
-- the event time used either way (`event_at`, `event_time_source`: 'published_at' or 'received').
-- Nothing is written, and the reply says why, when:
--   a client id was already used for another text (stored, or earlier in this batch): {'conflict', item index};
--   the batch's new headlines would make the ingest stream longer than max backlog: {'overloaded', new count};
--   an idempotency key changed since the caller read it (a concurrent post of the same item): {'retry'}.
local ttl, count, now, rid = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local max_backlog, hpre = tonumber(ARGV[5]), ARGV[6]
local declared = {}
for i = 4 + count, #KEYS do declared[KEYS[i]] = true end
local function record(id)
  local key = hpre .. id
  if not declared[key] then error('ingest.lua: undeclared key ' .. key) end
  return key
end
local reserved, next_reserved = {}, 1
for i = 7 + 2 * count, #ARGV do reserved[#reserved + 1] = ARGV[i] end
local function refuse(reply)
  if #reserved > 0 and redis.call('GET', KEYS[2]) == reserved[#reserved] then
    redis.call('DECRBY', KEYS[2], #reserved)
  end
  return reply
end
local items, stored, texts, new = {}, {}, {}, 0
for i = 1, count do
  local idem = KEYS[3 + i]
  local item = cjson.decode(ARGV[6 + i])
  items[i] = item
  if stored[idem] == nil then  -- the first item with this key: is it stored already (false: no)?
    stored[idem] = redis.call('GET', idem)
    if (stored[idem] or '') ~= ARGV[6 + count + i] then
      return refuse({'retry'})
    end
    if not stored[idem] then
      new = new + 1
    end
  end
  if type(item.client_id) == 'string' and item.client_id ~= '' then
    if texts[idem] == nil then  -- the text this id stands for: stored, else this (first) item's
      texts[idem] = stored[idem] and redis.call('HGET', record(stored[idem]), 'text') or item.text
    end
    if texts[idem] ~= item.text then
      return refuse({'conflict', i})
    end
  end
end
-- Checked here, with the writes, so that concurrent batches cannot all pass one reading of the length.
if new > 0 and redis.call('XLEN', KEYS[1]) + new > max_backlog then
  return refuse({'overloaded', new})
end
if new > 0 then redis.call('HINCRBY', KEYS[3], 'received', new) end
local out = {}
for i = 1, count do
  local idem = KEYS[3 + i]
  local item = items[i]
  local existing = redis.call('GET', idem)
  if existing then
    out[i] = {existing, 0}
  else
    -- `received_at` (a string) comes with an item only from `replay`, which carries a headline over from another
    -- namespace (the API forbids the field): it keeps its first arrival time and what was left of its retention.
    local at, keep = now, ttl
    if type(item.received_at) == 'string' then
      at = item.received_at
      keep = math.max(1, math.floor(ttl - (tonumber(now) - tonumber(at))))
    end
    local id = reserved[next_reserved]
    next_reserved = next_reserved + 1
    redis.call('SET', idem, id, 'EX', keep)
    local published = type(item.event_at) == 'string'  -- a plausible publication time (see ingest.py)
    local flat = {'status', 'queued', 'received_at', at, 'request_id', rid,
                  'event_at', published and item.event_at or at,
                  'event_time_source', published and 'published_at' or 'received'}
    for _, f in ipairs({'client_id', 'api_key', 'text', 'source', 'url', 'lang', 'published_at', 'body'}) do
      if type(item[f]) == 'string' then
        flat[#flat + 1] = f
        flat[#flat + 1] = item[f]
      end
    end
    local hkey = record(id)
    redis.call('HSET', hkey, unpack(flat))
    redis.call('EXPIRE', hkey, keep)
    local message = {'id', id, 'text', item.text, 'lang', item.lang or 'fr',
                     'source', type(item.source) == 'string' and item.source or '', 'received_at', at, 'rid', rid}
    if published then
      message[#message + 1] = 'event_at'
      message[#message + 1] = item.event_at
    end
    if type(item.client_id) == 'string' and item.client_id ~= '' then  -- named in the headline's events
      message[#message + 1] = 'client_id'
      message[#message + 1] = item.client_id
    end
    if type(item.lead) == 'string' then  -- the body's lead sentence (see ingest.py): the worker's Headline.lead
      message[#message + 1] = 'lead'
      message[#message + 1] = item.lead
    end
    redis.call('XADD', KEYS[1], '*', unpack(message))
    out[i] = {id, 1}
  end
end
return out

-- Idempotent, atomic ingest of a batch. KEYS: seq, ingest stream, then one idempotency key per item.
-- ARGV: ttl, item count, key tag, now, request id, max backlog, then one JSON object per item.
-- Returns {headline id, 1 if new} per item.
-- A message carries `event_at` when the item's publication time is usable as its event time; the record keeps
-- the event time used either way (`event_at`, `event_time_source`: 'published_at' or 'received').
-- Nothing is written, and the reply says why, when:
--   a client id was already used for another text (stored, or earlier in this batch): {'conflict', item index};
--   the batch's new headlines would make the ingest stream longer than max backlog: {'overloaded', new count}.
local ttl, count, tag, now, rid = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local max_backlog = tonumber(ARGV[6])
local items, stored, texts, new = {}, {}, {}, 0
for i = 1, count do
  local idem = KEYS[2 + i]
  local item = cjson.decode(ARGV[6 + i])
  items[i] = item
  if stored[idem] == nil then  -- the first item with this key: is it stored already (false: no)?
    stored[idem] = redis.call('GET', idem)
    if not stored[idem] then
      new = new + 1
    end
  end
  if type(item.client_id) == 'string' and item.client_id ~= '' then
    if texts[idem] == nil then  -- the text this id stands for: stored, else this (first) item's
      texts[idem] = stored[idem] and redis.call('HGET', tag .. ':h:' .. stored[idem], 'text') or item.text
    end
    if texts[idem] ~= item.text then
      return {'conflict', i}
    end
  end
end
-- Checked here, with the writes, so that concurrent batches cannot all pass one reading of the length.
if new > 0 and redis.call('XLEN', KEYS[2]) + new > max_backlog then
  return {'overloaded', new}
end
local out = {}
for i = 1, count do
  local idem = KEYS[2 + i]
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
    local id = tostring(redis.call('INCR', KEYS[1]))
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
    local hkey = tag .. ':h:' .. id
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
    redis.call('XADD', KEYS[2], '*', unpack(message))
    out[i] = {id, 1}
  end
end
return out

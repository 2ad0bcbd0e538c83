"""Dead letters: an ingest entry that cannot be decided leaves the ingest stream for the capped dead-letter
stream, in one script call (alone or inside the caller's MULTI)."""
from __future__ import annotations

from headline_dedup.storage import lua
from headline_dedup.storage.keys import INGEST_GROUP, Keys

DEAD_MAXLEN = 100_000
SCRIPT = lua.source("dead_letter.lua")


def stage_dead_letter(pipe_or_client, keys: Keys, fields: dict, entry_id: str, error: str,
                      maxlen: int = DEAD_MAXLEN, record_ttl: int = 0, *, event_data: str, events_maxlen: int):
    """Dead-letter the ingest entry `entry_id` (its `fields`, as read): add it with `entry_id` and `error` to the
    dead stream (MAXLEN ~ `maxlen`), set status `dead` and reason (`error`, cut to 500 characters) on its
    headline record only if the record still exists (giving it `record_ttl` seconds when it has no expiry and
    `record_ttl` > 0), XACK and XDEL the entry, and add a `headline.rejected` event with `event_data` (JSON)
    to the events stream (MAXLEN ~ `events_maxlen`). On a pipeline it is queued (the caller executes); on a
    client it runs now and returns the dead entry's id."""
    entry = {**fields, "entry_id": entry_id, "error": error}
    # an entry without an id (malformed) has no record: a key that never exists keeps KEYS fixed
    headline = keys.headline(fields.get("id") or "")
    return lua.run(pipe_or_client.register_script(SCRIPT), [keys.dead, headline, keys.ingest, keys.events],
                   [INGEST_GROUP, entry_id, int(maxlen), error[:500], int(record_ttl), int(events_maxlen), event_data,
                    *(x for pair in entry.items() for x in pair)], pipe_or_client)

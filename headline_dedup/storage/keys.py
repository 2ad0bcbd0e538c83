"""The whole Redis key schema. Every key of a namespace shares the hash tag `{prefix:namespace}`, so that one
namespace lives in one slot: on Redis Cluster its scripts (each declaring every key it touches) and
transactions run on the node serving that slot, and namespaces spread over the masters.

| key                      | type   | what                                                           |
|--------------------------|--------|----------------------------------------------------------------|
| {t}:meta                 | hash   | index fingerprint, headlines retained (`total`), indexed,      |
|                          |        | vectors' encoder, `policy` set at run time, `corrections` seq, |
|                          |        | headlines stored (`received`)                                  |
| {t}:seq                  | string | last headline id reserved (ids increase; a refused batch's     |
|                          |        | reserved ids may be skipped)                                   |
| {t}:idem:<key>           | string | [API key +] client id (or source+text hash) -> id, expires     |
| {t}:ingest               | stream | headlines waiting for a worker (group `clusterers`)            |
| {t}:dead                 | stream | messages that failed `max_deliveries` times, with the error    |
|                          |        | (trimmed to retention, and to a length)                        |
| {t}:events               | stream | cluster events (SSE ids are its entry ids), trimmed to         |
|                          |        | retention and to a length                                      |
| {t}:corrections          | stream | editors' merges, splits and moves (who, when, what)            |
| {t}:h:<id>               | hash   | a headline: text, meta, api_key, status, cluster_id, reason,   |
|                          |        | `tok` (the tokens its commit counted)...                       |
| {t}:bands                | hash   | the band index: a linear-hashing table of packed entries (band |
|                          |        | key, id, time bucket), pruned to the window (insert_and_query) |
| {t}:lsh:<bucket>         | hash   | the earlier band index (band -> ids): a worker moves it to     |
|                          |        | `bands` at start (`:adopting` while it does), then deletes it  |
| {t}:near                 | stream | indexed headlines' word-vector rows (id, time, rows), trimmed  |
|                          |        | to the window: workers mirror it to search by meaning          |
| {t}:sv:<encoder>:<id>    | string | a headline's vector for the semantic judge (float16), expires  |
| {t}:ahead:<entry>        | string | an ingest entry claimed by a worker to embed ahead, expires    |
| {t}:exact                | hash   | normalised-text hash -> cluster id (the cluster lists its own: |
|                          |        | they go with it)                                               |
| {t}:df                   | hash   | token -> number of retained headlines containing it (a         |
|                          |        | cluster's expiry takes its members' counts back)               |
| {t}:c:<id>               | hash   | cluster: size, representative, first/last seen, exact keys,    |
|                          |        | clusters an editor set apart; once merged away: `merged_into`  |
| {t}:c:<id>:tok           | hash   | token -> number of members containing it (the profile)         |
| {t}:c:<id>:lent          | hash   | the same for the members whose words the profile does not count|
|                          |        | (the semantic judge's joins), taken off `df` with them         |
| {t}:c:<id>:m             | hash   | member headline id -> join score                               |
| {t}:clusters             | zset   | cluster id by last update (listing, cursor pagination)         |
| {t}:aging                | zset   | cluster id by when its oldest member's record expires: members |
|                          |        | leave a cluster that lives on shortly before (retention)       |
| {t}:lock                 | string | the clustering lock (fencing token)                            |
| {t}:wh                   | hash   | webhook id -> JSON (url, types, secret, state, failures)       |
| {t}:wh:<id>:log          | list   | the webhook's latest deliveries (newest first, capped)         |
| {t}:wh:retry             | zset   | pending redeliveries (JSON job) by due time                    |
| LIMITS:{t}:rl/...        | zset   | rate-limit windows (Flask-Limiter's own layout, same hash tag) |
| {t}:roles                | zset   | `<role>:<name>` by the time of its last successful step        |
"""
from __future__ import annotations

from dataclasses import dataclass

INGEST_GROUP = "clusterers"
DISPATCH_GROUP = "dispatchers"


@dataclass(frozen=True)
class Keys:
    prefix: str = "hd"
    namespace: str = "default"

    @property
    def tag(self) -> str:
        return f"{{{self.prefix}:{self.namespace}}}"

    def _k(self, *parts: str) -> str:
        return ":".join((self.tag, *parts))

    meta = property(lambda self: self._k("meta"))
    seq = property(lambda self: self._k("seq"))
    ingest = property(lambda self: self._k("ingest"))
    dead = property(lambda self: self._k("dead"))
    events = property(lambda self: self._k("events"))
    corrections = property(lambda self: self._k("corrections"))
    exact = property(lambda self: self._k("exact"))
    df = property(lambda self: self._k("df"))
    clusters = property(lambda self: self._k("clusters"))
    aging = property(lambda self: self._k("aging"))
    lock = property(lambda self: self._k("lock"))
    webhooks = property(lambda self: self._k("wh"))
    rate_limit_prefix = property(lambda self: self._k("rl"))
    webhook_retries = property(lambda self: self._k("wh", "retry"))

    def webhook_log(self, webhook_id: str) -> str:
        return self._k("wh", webhook_id, "log")

    def idem(self, key: str) -> str:
        return self._k("idem", key)

    def headline(self, headline_id: str) -> str:
        return self._k("h", headline_id)

    bands = property(lambda self: self._k("bands"))

    def lsh(self, bucket: int) -> str:
        return self._k("lsh", str(bucket))

    near = property(lambda self: self._k("near"))

    def semantic_vector(self, encoder_tag: str, headline_id: str) -> str:
        return self._k("sv", encoder_tag, headline_id)

    def embed_claim(self, entry_id: str) -> str:
        return self._k("ahead", entry_id)

    def cluster(self, cluster_id: str) -> str:
        return self._k("c", cluster_id)

    def cluster_tokens(self, cluster_id: str) -> str:
        return self._k("c", cluster_id, "tok")

    def cluster_lent(self, cluster_id: str) -> str:
        return self._k("c", cluster_id, "lent")

    def cluster_members(self, cluster_id: str) -> str:
        return self._k("c", cluster_id, "m")

    roles = property(lambda self: self._k("roles"))

"""The consistency check (`headline-dedup check`): every cluster's size, member list and profile recomputed from
its members, and every member's record pointing back at it. What corrections and batches must keep true."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import redis

from headline_dedup.normalize import Normalizer, default_normalizer
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text

PAGE = 500  # clusters read per round of pipelined reads


@dataclass
class Report:
    clusters: int = 0
    members: int = 0
    unverifiable: int = 0  # clusters with a member whose record has expired: their profile cannot be recomputed
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(client: redis.Redis, keys: Keys, normalizer: Normalizer | None = None, limit: int = 100) -> Report:
    """Check every listed cluster; at most `limit` problems are described."""
    normalizer = normalizer or default_normalizer()
    report = Report()
    owner: dict[str, str] = {}
    ids = [as_text(c) for c in client.zrange(keys.clusters, 0, -1)]
    for start in range(0, len(ids), PAGE):
        page = ids[start:start + PAGE]
        pipe = client.pipeline(transaction=False)
        for cid in page:
            pipe.hgetall(keys.cluster(cid))
            pipe.hgetall(keys.cluster_members(cid))
            pipe.hgetall(keys.cluster_tokens(cid))
            pipe.hgetall(keys.cluster_lent(cid))
        raw = pipe.execute()
        for i, cid in enumerate(page):
            meta = {as_text(a): as_text(b) for a, b in raw[4 * i].items()}
            members = [as_text(m) for m in raw[4 * i + 1]]
            counts, lent = ({as_text(a): int(b) for a, b in raw[4 * i + j].items()} for j in (2, 3))
            report.clusters += 1
            report.members += len(members)
            problems = _check_cluster(client, keys, normalizer, cid, meta, members, (counts, lent), owner, report)
            report.problems += problems[:max(0, limit - len(report.problems))]
    return report


def _check_cluster(client, keys, normalizer, cid, meta, members, held, owner, report) -> list[str]:
    """`held`: the cluster's token counts, and those of the members whose words it does not count (lent)."""
    problems = []
    if meta.get("merged_into"):
        problems.append(f"{cid}: merged into {meta['merged_into']} but still listed")
    if int(meta.get("size") or 0) != len(members):
        problems.append(f"{cid}: size {meta.get('size')} but {len(members)} members")
    if meta.get("rep_id") not in members:
        problems.append(f"{cid}: representative {meta.get('rep_id')} is not a member")
    pipe = client.pipeline(transaction=False)
    for hid in members:
        pipe.hmget(keys.headline(hid), ["cluster_id", "text", "lang", "lent"])
    recomputed: Counter = Counter()
    lent: Counter = Counter()
    complete = True
    for hid, (cluster_id, text, lang, lent_flag) in zip(members, pipe.execute()):
        if hid in owner:
            problems.append(f"{hid}: member of {owner[hid]} and of {cid}")
        owner[hid] = cid
        if text is None:
            complete = False
            continue
        if as_text(cluster_id) != cid:
            problems.append(f"{hid}: member of {cid} but its record says {as_text(cluster_id)}")
        # The semantic judge's joins lend their words to no profile: they are counted apart (`lent`).
        tokens = set(normalizer.normalize(as_text(text), as_text(lang) or "fr").tokens)
        (lent if as_text(lent_flag) == "1" else recomputed).update(tokens)
    if not complete:
        report.unverifiable += 1
    else:
        for name, found, counted in (("token counts", recomputed, held[0]), ("lent token counts", lent, held[1])):
            if dict(found) != counted:
                wrong = sorted(set(found.items()) ^ set(counted.items()))[:5]
                problems.append(f"{cid}: {name} differ from its members' ({wrong})")
    return problems

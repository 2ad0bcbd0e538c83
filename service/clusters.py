"""Cluster routes: list (cursor pagination and filters), one cluster, statistics, dead letters."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from headline_dedup.errors import NotFound
from headline_dedup.normalize import fold_accents
from headline_dedup.feeds import parse_time
from headline_dedup.service.auth import requires
from headline_dedup.service.context import services
from headline_dedup.service.openapi import document, errors
from headline_dedup.service.paging import stream_page
from headline_dedup.service.schemas import ClusterOut, ClusterPage, ClusterQuery, DeadLetterPage, StatsOut

bp = Blueprint("clusters", __name__)
SCAN_LIMIT = 5_000  # clusters examined per page when filters drop most of them


def _query() -> ClusterQuery:
    return ClusterQuery.model_validate(request.args.to_dict())


def _fold(text: str) -> str:
    return fold_accents(text).casefold()


@bp.get("/clusters")
@requires("read")
@document(query=ClusterQuery, resp=errors(400, 422, HTTP_200=ClusterPage), tags=["clusters"],
          skip_validation=True)
def list_clusters():
    """Clusters by last update, newest first; pass `next_cursor` back as `cursor` for the next page."""
    q = _query()
    reader = services().reader
    needle = _fold(q.text) if q.text else None
    page: list[dict] = []
    cursor, scanned = q.cursor, 0
    while len(page) < q.limit and cursor is not None and scanned < SCAN_LIMIT:
        ids, nxt = reader.cluster_page(cursor, q.limit, parse_time(q.updated_since) if q.updated_since else None)
        scanned += len(ids)
        for offset, c in enumerate(reader.clusters(ids, members=q.members)):
            if c is None or c["size"] < q.min_size:
                continue
            if q.source and q.source not in c["sources"]:
                continue
            rep = c["representative"] or {}
            if needle and needle not in _fold(rep.get("text") or ""):
                continue
            if not q.members:
                c.pop("members", None)
            page.append(c)
            if len(page) == q.limit:
                nxt = cursor + offset + 1
                break
        cursor = nxt
    return jsonify({"clusters": page, "next_cursor": cursor})


@bp.get("/clusters/<cid>")
@requires("read")
@document(resp=errors(404, HTTP_200=ClusterOut), tags=["clusters"])
def get_cluster(cid: str):
    """One cluster with its representative and members (join scores included). The id of a cluster an editor
    merged away answers with the cluster it went into: `merged_into` names it, `merged` lists the ids followed."""
    svc = services()
    target, merged = svc.corrections.follow(cid)
    found = svc.reader.clusters([target], members=True)[0]
    if found is None:
        raise NotFound("cluster_not_found", f"no cluster {cid}")
    if merged:
        found["merged"], found["merged_into"] = merged, target
    return jsonify(found)


@bp.get("/stats")
@requires("read")
@document(resp=errors(HTTP_200=StatsOut), tags=["operations"])
def stats():
    """Counts: headlines, clusters, ingest backlog and pending, dead letters, events."""
    return jsonify(services().reader.stats())


@bp.get("/dead-letters")
@requires("read")
@document(resp=errors(400, HTTP_200=DeadLetterPage), tags=["operations"])
def dead_letters():
    """Messages that failed `max_deliveries` times, with their error, oldest first."""
    after, limit = stream_page()
    items, nxt = services().reader.dead_letters(after, limit)
    return jsonify({"dead_letters": items, "next_cursor": nxt})

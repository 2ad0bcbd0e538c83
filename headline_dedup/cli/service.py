"""The service's commands besides `serve` (`cli/serve.py`): `api`, `worker`, `dispatcher`, `keygen`, `replay`,
`check`, `ingest`."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from headline_dedup.cli.offline import article_arg
from headline_dedup.errors import ConfigurationError
from headline_dedup.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("api", help="the HTTP API alone under gunicorn (gthread), on REDIS_URL or the bundled Redis")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--threads", type=int, default=None,
                   help="gthread threads (default: HEADLINE_DEDUP_MAX_EVENT_STREAMS + 64; each open event stream "
                        "holds one)")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser("worker", help="one clustering worker on REDIS_URL or the bundled Redis; stops on SIGTERM")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("dispatcher", help="the webhook dispatcher on REDIS_URL or the bundled Redis")
    p.set_defaults(func=cmd_dispatcher)

    p = sub.add_parser("healthcheck", help="exit 0 when a role on this host made a successful step within the "
                                           "heartbeat TTL, else 1 (container healthchecks)")
    p.add_argument("role", choices=["clusterer", "dispatcher"])
    p.set_defaults(func=cmd_healthcheck)

    p = sub.add_parser("keygen", help="make an API key and the (hashed) configuration entry that admits it")
    p.add_argument("--name", default="client")
    p.add_argument("--scopes", default="ingest,read", help="comma-separated among ingest, read, edit, admin")
    p.add_argument("--namespaces", default=None,
                   help="comma-separated: the only namespaces the key may use (default: every one served)")
    p.add_argument("--save", action="store_true",
                   help="store the key's hash in the data directory's key file (the one `serve` uses without "
                        "configured keys), replacing the entry of the same name; a running API picks it up")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("replay", help="queue the retained headlines of another namespace into this one (after an "
                                      "upgrade that needs a new namespace), oldest first; safe to re-run")
    p.add_argument("--from-namespace", required=True,
                   help="the namespace to copy from (same Redis); the target is HEADLINE_DEDUP_NAMESPACE")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("check", help="recompute every cluster's size, members and profile from its members and "
                                     "report what disagrees (exit 1 if anything does)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("ingest", help="post a feed (TSV, plain text or article files; - for stdin) to a service",
                       description="Post a feed to a service in batches: a TSV with a header, plain text (one "
                                   "headline per line, or a list of \"- \" headlines followed by one article, as "
                                   "the seed feed: the article is posted with its body), or with --article one or "
                                   "more article files, each ONE headline posted with its body.")
    p.add_argument("input", nargs="+", help="the feed, - for stdin; several files with --article")
    article_arg(p)
    p.add_argument("--url", default=None, help="default http://HEADLINE_DEDUP_HOST:HEADLINE_DEDUP_PORT")
    p.add_argument("--text-column", default="title")
    p.add_argument("--id-column", default="row",
                   help="client ids (idempotency); without the column, posts are matched by their text")
    p.add_argument("--time-column", default=None, help="publication times, sent as published_at")
    p.add_argument("--batch-size", type=int, default=500)
    p.set_defaults(func=cmd_ingest)


def connect(settings: Settings):
    """A Redis client for REDIS_URL (a Redis Cluster client when it names a cluster node), or for a freshly
    started bundled redis-server (returned too)."""
    from headline_dedup.storage.client import redis_client, service_client
    from headline_dedup.storage.embedded import EmbeddedRedis

    if settings.redis_url:
        return service_client(settings.redis_url, settings), None
    server = EmbeddedRedis(settings.data_dir, settings.appendfsync).start()
    return redis_client(server.url, settings.redis_max_connections, settings.redis_socket_timeout), server


def cmd_healthcheck(args, settings: Settings) -> int:
    """A fresh heartbeat of `args.role` from a process on this host (role names start with the host name).
    Never starts a Redis: without REDIS_URL it asks the bundled one in the data directory."""
    import socket

    import redis

    from headline_dedup.storage.client import redis_client
    from headline_dedup.storage.embedded import EmbeddedRedis
    from headline_dedup.storage.heartbeats import Heartbeats
    from headline_dedup.storage.keys import Keys

    url = settings.redis_url or EmbeddedRedis(settings.data_dir).url
    client = redis_client(url, max_connections=2, socket_timeout=5, retries=0)
    try:
        fresh = Heartbeats(client, Keys(settings.key_prefix, settings.namespace), settings.heartbeat_ttl).fresh()
    except redis.RedisError as exc:
        print(f"unhealthy: redis: {exc}")
        return 1
    mine = [n for n in fresh.get(args.role, []) if n.startswith(f"{socket.gethostname()}-")]
    print(f"{args.role}: {len(mine)} working on this host" if mine else f"unhealthy: no working {args.role} here")
    return 0 if mine else 1


def cmd_keygen(args, settings: Settings) -> int:
    from headline_dedup import apikeys
    from headline_dedup.cli.serve import key_file

    spaces = [n.strip() for n in args.namespaces.split(",") if n.strip()] if args.namespaces else None
    if args.save:
        path = Path(settings.api_keys_file) if settings.api_keys_file else key_file(settings)
        key = apikeys.save(path, args.name, args.scopes.split(","), spaces)
        print(f"key (give it to the client; only its hash is stored, in {path}): {key}")
        return 0
    key, entry = apikeys.generate(args.name, args.scopes.split(","), spaces)
    print(f"key (give it to the client; it is not stored): {key}")
    print(f"entry (add to HEADLINE_DEDUP_API_KEYS or the keys file): {entry}")
    return 0


def cmd_api(args, settings: Settings) -> int:
    from headline_dedup import apikeys
    from headline_dedup.cli.serve import local_key_file
    from headline_dedup.service import create_app
    from headline_dedup.service.server import Server

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    settings = settings.model_copy(update=overrides)
    keyring = None
    if not settings.auth_disabled:
        file = settings.api_keys_file or (None if settings.api_keys else local_key_file(settings))
        keyring = apikeys.ring(settings.api_keys, file)
    client, server = connect(settings)
    try:
        Server(settings, lambda: create_app(settings, client, keyring), args.threads).run()
    finally:
        if server:
            server.stop()
    return 0


def _run_role(settings: Settings, make) -> int:
    """Run one role (`make(client, settings)`) on REDIS_URL or the bundled Redis until SIGTERM (the console
    script has tuned the process: `runtime.tune_process`)."""
    from headline_dedup.workers.roles import run_until_signalled

    client, server = connect(settings)
    try:
        run_until_signalled(lambda: make(client, settings))
    finally:
        if server:
            server.stop()
    return 0


def cmd_worker(args, settings: Settings) -> int:
    from headline_dedup.workers.clusterer import Clusterer

    return _run_role(settings, Clusterer)


def cmd_dispatcher(args, settings: Settings) -> int:
    from headline_dedup.workers.dispatcher import Dispatcher

    return _run_role(settings, Dispatcher)


def cmd_replay(args, settings: Settings) -> int:
    from headline_dedup.storage.ingest import Ingestor
    from headline_dedup.storage.keys import Keys
    from headline_dedup.storage.replay import replay

    client, server = connect(settings)
    try:
        ingestor = Ingestor(client, Keys(settings.key_prefix, settings.namespace), settings.retention_days * 86400,
                            settings.max_backlog)
        report = replay(client, Keys(settings.key_prefix, args.from_namespace), ingestor, progress=lambda r: print(
            f"\rqueued {r.queued:,}, already there {r.already:,}, expired {r.expired:,}", end="", file=sys.stderr)
            if sys.stderr.isatty() else None)
        print(f"\r{args.from_namespace} -> {settings.namespace}: queued {report.queued:,}, already there "
              f"{report.already:,}, expired {report.expired:,}; the workers of {settings.namespace} cluster them",
              file=sys.stderr)
    finally:
        if server:
            server.stop()
    return 0


def cmd_check(args, settings: Settings) -> int:
    from headline_dedup.storage.consistency import check
    from headline_dedup.storage.keys import Keys

    client, server = connect(settings)
    try:
        report = check(client, Keys(settings.key_prefix, settings.namespace))
    finally:
        if server:
            server.stop()
    for problem in report.problems:
        print(problem)
    print(f"{settings.namespace}: {report.clusters:,} clusters, {report.members:,} members, "
          f"{len(report.problems)} problems" + (f", {report.unverifiable:,} clusters with expired members not "
                                                "recomputed" if report.unverifiable else ""), file=sys.stderr)
    return 0 if report.ok else 1


def post_feed(path: str | Sequence[str], url: str, text_column: str, id_column: str, batch_size: int,
              api_key: str | None = None, time_column: str | None = None, article: bool = False,
              wait: float | None = None) -> list[dict]:
    """Post a feed, or with `article` article files (`path` may then name several), in batches (progress bar on
    a terminal); returns the stored headlines in input order (`duplicate_request` on those already there). Rows
    carry a client id only from the id column (line numbers would make the second file's lines replays of the
    first's), a publication time from the time column, and an article's body. `wait`: seconds each batch's
    POST waits for its clusters."""
    from headline_dedup.cli.offline import feed_rows, progress_bar
    from headline_dedup.client import ApiError, Client

    posted: list[dict] = []
    rows = [r for r in feed_rows(path, article, text_column, id_column, time_column) if r.text.strip()]
    with Client(url, api_key) as api, progress_bar() as bar:
        task = bar.add_task("posting", total=len(rows)) if bar else None
        for i in range(0, len(rows), batch_size):
            batch = [_posted(r, time_column) for r in rows[i:i + batch_size]]
            try:
                posted += api.post(batch, wait=wait)
            except ApiError as exc:
                raise SystemExit(f"ingest failed: {exc.status} {exc.code}: {exc.message}") from None
            if bar:
                bar.advance(task, len(batch))
    return posted


def posted_summary(posted: list[dict]) -> str:
    """"15 headlines (12 new, 3 already there)"."""
    again = sum(bool(h.get("duplicate_request")) for h in posted)
    return f"{len(posted)} headlines ({len(posted) - again} new, {again} already there)"


def _posted(row, time_column: str | None) -> dict:
    item = {"text": row.text}
    if row.id_given:
        item["id"] = row.id
    if time_column and row.timestamp:
        item["published_at"] = datetime.fromtimestamp(row.timestamp, timezone.utc).isoformat()
    if row.body:
        item["body"] = row.body
    return item


def cmd_ingest(args, settings: Settings) -> int:
    from headline_dedup.client import ServiceUnreachable

    url = args.url or f"http://{settings.host}:{settings.port}"
    try:
        posted = post_feed(args.input, url, args.text_column, args.id_column, args.batch_size, settings.api_key,
                           args.time_column, args.article)
    except ServiceUnreachable:
        raise ConfigurationError("service_unreachable", f"no headline-dedup service answers at {url} (start "
                                 "one with `headline-dedup serve`, or pass --url)") from None
    print(f"posted {posted_summary(posted)}")
    return 0

"""The service's commands: `serve` (bundled Redis + API + one worker), `api`, `worker`, `dispatcher`, `keygen`,
`replay`, `ingest`."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from headline_dedup.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="the main job: bundled Redis (unless REDIS_URL), the API, one worker and the "
                                     "webhook dispatcher")
    p.add_argument("--host", default=None, help="default HEADLINE_DEDUP_HOST or 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default HEADLINE_DEDUP_PORT or 8000")
    p.add_argument("--data-dir", default=None, help="bundled Redis data directory (HEADLINE_DEDUP_DATA_DIR)")
    p.add_argument("--ingest", default=None, help="post this feed once the service is up, then show clusters")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("api", help="the HTTP API alone under gunicorn (gthread), on REDIS_URL or the bundled Redis")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--threads", type=int, default=256, help="gthread threads (each open event stream holds one)")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser("worker", help="one clustering worker on REDIS_URL or the bundled Redis; stops on SIGTERM")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("dispatcher", help="the webhook dispatcher on REDIS_URL or the bundled Redis")
    p.set_defaults(func=cmd_dispatcher)

    p = sub.add_parser("keygen", help="make an API key and the (hashed) configuration entry that admits it")
    p.add_argument("--name", default="client")
    p.add_argument("--scopes", default="ingest,read", help="comma-separated among ingest, read, admin")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("replay", help="queue the retained headlines of another namespace into this one (after an "
                                      "upgrade that needs a new namespace), oldest first; safe to re-run")
    p.add_argument("--from-namespace", required=True,
                   help="the namespace to copy from (same Redis); the target is HEADLINE_DEDUP_NAMESPACE")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("ingest", help="post a feed (TSV or one headline per line, - for stdin) to a service")
    p.add_argument("input")
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--text-column", default="title")
    p.add_argument("--id-column", default="row",
                   help="client ids (idempotency); without the column, posts are matched by their text")
    p.add_argument("--time-column", default=None, help="publication times, sent as published_at")
    p.add_argument("--batch-size", type=int, default=500)
    p.set_defaults(func=cmd_ingest)


def connect(settings: Settings):
    """A Redis client for REDIS_URL, or for a freshly started bundled redis-server (returned too)."""
    import redis

    from headline_dedup.storage.embedded import EmbeddedRedis

    pool = {"max_connections": settings.redis_max_connections}
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url, **pool), None
    server = EmbeddedRedis(settings.data_dir, settings.appendfsync).start()
    return redis.Redis.from_url(server.url, **pool), server


def keyring_for(settings: Settings):
    """(key ring, generated key): the configured API keys; with none (and auth not disabled) a fresh admin
    key for this run, printed once. (None, None) when authentication is disabled."""
    from headline_dedup import apikeys

    if settings.auth_disabled:
        print("authentication is DISABLED (HEADLINE_DEDUP_AUTH_DISABLED)", flush=True)
        return None, None
    ring = apikeys.KeyRing(apikeys.load(settings.api_keys, settings.api_keys_file))
    if ring.keys:
        return ring, None
    key, entry = apikeys.generate("local", ["admin"])
    ring.add(apikeys.parse(entry)[0])
    print(f"API key for this run (admin): {key}\n  (configure keys with HEADLINE_DEDUP_API_KEYS; "
          f"`headline-dedup keygen` makes them)", flush=True)
    return ring, key


def cmd_keygen(args, settings: Settings) -> int:
    from headline_dedup import apikeys

    key, entry = apikeys.generate(args.name, args.scopes.split(","))
    print(f"key (give it to the client; it is not stored): {key}")
    print(f"entry (add to HEADLINE_DEDUP_API_KEYS or the keys file): {entry}")
    return 0


def cmd_serve(args, settings: Settings) -> int:
    from werkzeug.serving import make_server

    from service import create_app
    from workers.clusterer import Clusterer
    from workers.dispatcher import Dispatcher

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port), ("data_dir", args.data_dir)) if v}
    settings = settings.model_copy(update=overrides)
    client, server = connect(settings)
    worker = Clusterer(client, settings)
    dispatcher = Dispatcher(client, settings)
    threads = [threading.Thread(target=worker.run, name="clusterer", daemon=True),
               threading.Thread(target=dispatcher.run, name="dispatcher", daemon=True)]
    keyring, generated = keyring_for(settings)
    http = make_server(settings.host, settings.port, create_app(settings, client, keyring), threaded=True)
    threads.append(threading.Thread(target=http.serve_forever, name="http", daemon=True))
    for t in threads:
        t.start()
    where = settings.redis_url or f"bundled redis-server, data in {Path(settings.data_dir).resolve()}"
    print(f"headline-dedup serving on http://{settings.host}:{settings.port} ({where})", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        if args.ingest:
            _ingest_and_show(args.ingest, f"http://{settings.host}:{settings.port}", generated or settings.api_key)
        while not stop.is_set():
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
        dispatcher.stop()
        http.shutdown()
        for t in threads[:2]:  # the clusterer and the dispatcher finish their step
            t.join(timeout=10)
        if server:
            server.stop()
    return 0


def cmd_api(args, settings: Settings) -> int:
    from gunicorn.app.base import BaseApplication
    from gunicorn.glogging import Logger

    from service import create_app

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v}
    settings = settings.model_copy(update=overrides)
    client, server = connect(settings)
    keyring, _ = keyring_for(settings)

    class _Logs(Logger):
        """Gunicorn's records go to the root handler too (JSON, like the rest)."""
        def setup(self, cfg):
            super().setup(cfg)
            for logger in (self.error_log, self.access_log):
                logger.handlers, logger.propagate = [], True

    class _Gunicorn(BaseApplication):
        def load_config(self):
            self.cfg.set("logger_class", _Logs)
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", args.threads)
            self.cfg.set("workers", 1)

        def load(self):
            return create_app(settings, client, keyring)

    try:
        _Gunicorn().run()
    finally:
        if server:
            server.stop()
    return 0


def _run_role(settings: Settings, make) -> int:
    """Run one role (`make(client, settings)`) on REDIS_URL or the bundled Redis until SIGTERM."""
    from headline_dedup.runtime import tune_gc
    from workers.roles import run_until_signalled

    client, server = connect(settings)
    try:
        tune_gc()
        run_until_signalled(make(client, settings))
    finally:
        if server:
            server.stop()
    return 0


def cmd_worker(args, settings: Settings) -> int:
    from workers.clusterer import Clusterer

    return _run_role(settings, Clusterer)


def cmd_dispatcher(args, settings: Settings) -> int:
    from workers.dispatcher import Dispatcher

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


def _ingest_and_show(path: str, url: str, api_key: str | None) -> None:
    import requests

    auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    ids = post_feed(path, url, "title", "row", 500, api_key)
    time.sleep(0.2)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        stats = requests.get(f"{url}/v1/stats", headers=auth, timeout=10).json()
        if stats["backlog"] == 0:
            break
        time.sleep(0.1)
    clusters = requests.get(f"{url}/v1/clusters", params={"min_size": 2, "members": "true", "limit": 500},
                            headers=auth, timeout=10).json()["clusters"]
    print(f"ingested {len(ids)} headlines; clusters with variants:")
    for c in clusters:
        print(f"  {c['id']} ({c['size']}): {c['representative']['text']}")
        for m in c["members"]:
            print(f"      - {m['text']}")
    print("Ctrl-C to stop.", flush=True)


def post_feed(path: str, url: str, text_column: str, id_column: str, batch_size: int,
              api_key: str | None = None, time_column: str | None = None) -> list[str]:
    """Post a feed in batches (progress bar on a terminal); returns the headline ids in input order. Rows
    carry a client id only from the id column (line numbers would make the second file's lines replays of the
    first's), and a publication time from the time column."""
    import requests

    from headline_dedup.cli.offline import progress_bar
    from headline_dedup.feeds import open_input, read_feed

    ids: list[str] = []
    with open_input(path) as stream, requests.Session() as session, progress_bar() as bar:
        if api_key:
            session.headers["Authorization"] = f"Bearer {api_key}"
        rows = [r for r in read_feed(stream, text_column, id_column, time_column) if r.text.strip()]
        task = bar.add_task("posting", total=len(rows)) if bar else None
        for i in range(0, len(rows), batch_size):
            body = {"headlines": [_posted(r, time_column) for r in rows[i:i + batch_size]]}
            resp = session.post(f"{url}/v1/headlines", json=body, timeout=60)
            if resp.status_code != 202:
                raise SystemExit(f"ingest failed: {resp.status_code} {resp.text}")
            ids += [h["id"] for h in resp.json()["headlines"]]
            if bar:
                bar.advance(task, len(body["headlines"]))
    return ids


def _posted(row, time_column: str | None) -> dict:
    item = {"text": row.text}
    if row.id_given:
        item["id"] = row.id
    if time_column and row.timestamp:
        item["published_at"] = datetime.fromtimestamp(row.timestamp, timezone.utc).isoformat()
    return item


def cmd_ingest(args, settings: Settings) -> int:
    ids = post_feed(args.input, args.url, args.text_column, args.id_column, args.batch_size, settings.api_key,
                    args.time_column)
    print(f"posted {len(ids)} headlines")
    return 0

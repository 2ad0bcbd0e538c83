"""`headline-dedup serve`: the main job. The bundled Redis (unless REDIS_URL), the API (gunicorn), and for each
namespace it serves a clustering worker and a webhook dispatcher, each its own process, supervised: whichever
dies is restarted.

With no API key configured, the first start makes an admin key, stores its hash in the data directory and
prints the key once; later starts use it (`headline-dedup keygen --save` makes a new one).
"""
from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

from headline_dedup.settings import Settings

KEY_FILE = "api-keys"


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="the main job: bundled Redis (unless REDIS_URL), the API, and a worker and a "
                                     "webhook dispatcher per namespace, each a supervised process")
    p.add_argument("--host", default=None, help="default HEADLINE_DEDUP_HOST or 127.0.0.1")
    p.add_argument("--port", type=int, default=None, help="default HEADLINE_DEDUP_PORT or 8000")
    p.add_argument("--data-dir", default=None, help="bundled Redis data directory (HEADLINE_DEDUP_DATA_DIR)")
    p.add_argument("--ingest", default=None, help="post this feed once the service is up, then show clusters")
    p.set_defaults(func=cmd_serve)


def key_file(settings: Settings) -> Path:
    return Path(settings.data_dir) / KEY_FILE


def local_key_file(settings: Settings) -> Path:
    """The data directory's key file, made with an admin key on first use (the key is printed that once)."""
    from headline_dedup import apikeys

    path = key_file(settings)
    if not path.exists():
        key = apikeys.save(path, "local", ["admin"])
        print(f"API key (admin), shown this once: {key}\n  (its hash is kept in {path}; "
              f"`headline-dedup keygen --save --name local --scopes admin` makes a new one)", flush=True)
    else:
        print(f"API keys: {path} (hashed); `headline-dedup keygen --save --name local --scopes admin` "
              "makes a new admin key", flush=True)
    return path


def api_keys(settings: Settings, ingest: bool) -> tuple[dict[str, str], str | None]:
    """The API process's key configuration (environment variables) and, for the --ingest step, a key valid for
    this run only. Without configured keys the data directory's key file is used, made on first start."""
    from headline_dedup import apikeys

    if settings.auth_disabled:
        print("authentication is DISABLED (HEADLINE_DEDUP_AUTH_DISABLED)", flush=True)
        return {}, None
    env: dict[str, str] = {}
    if not (settings.api_keys or settings.api_keys_file):
        env["HEADLINE_DEDUP_API_KEYS_FILE"] = str(local_key_file(settings))
    run_key = None
    if ingest:
        run_key, entry = apikeys.generate("serve-ingest", ["ingest", "read"])
        env["HEADLINE_DEDUP_API_KEYS"] = ",".join(e for e in (settings.api_keys, entry) if e)
    return env, run_key


def cmd_serve(args, settings: Settings) -> int:
    from headline_dedup.logs import get_logger
    from headline_dedup.storage.embedded import EmbeddedRedis
    from headline_dedup.workers.supervisor import Child, GaveUp, Subprocess, Supervisor, child_env, python_command

    log = get_logger("headline_dedup.serve")
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port), ("data_dir", args.data_dir)) if v}
    settings = settings.model_copy(update=overrides)
    base = f"http://{settings.host}:{settings.port}"
    children = []
    redis_url = settings.redis_url
    if not redis_url:
        redis_url = EmbeddedRedis(settings.data_dir).url  # a Unix socket in the data directory: stable
        children.append(Child("redis", lambda: EmbeddedRedis(settings.data_dir, settings.appendfsync).start(60),
                              stop_timeout=30))
    keys_env, run_key = api_keys(settings, bool(args.ingest))
    common = {"REDIS_URL": redis_url, "HEADLINE_DEDUP_HOST": settings.host,
              "HEADLINE_DEDUP_PORT": str(settings.port), "HEADLINE_DEDUP_DATA_DIR": str(settings.data_dir)}
    api_env = child_env(**common, **keys_env)
    children.append(Child("api", lambda: Subprocess(python_command("api"), api_env), probe=lambda: _healthy(base),
                          stops_first=True))
    for namespace in settings.served_namespaces():  # each namespace the API serves gets its own roles
        role_env = child_env(**common, HEADLINE_DEDUP_NAMESPACE=namespace)
        suffix = "" if namespace == settings.namespace else f":{namespace}"
        children += [Child(f"worker{suffix}", lambda env=role_env: Subprocess(python_command("worker"), env)),
                     Child(f"dispatcher{suffix}", lambda env=role_env: Subprocess(python_command("dispatcher"), env))]
    supervisor = Supervisor(children)
    stop = threading.Event()
    # SIGINT too, explicitly: a `make run &` from a script starts with SIGINT ignored, and Ctrl-C (or kill -INT)
    # must still stop everything cleanly.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        supervisor.start()
        if not _wait_until(f"{base}/healthz", supervisor, stop, 60):
            return 1
        _wait_until(f"{base}/readyz", supervisor, stop, 30)  # a worker has made its first step
        where = settings.redis_url or f"bundled redis-server, data in {Path(settings.data_dir).resolve()}"
        print(f"headline-dedup serving on {base} ({where}); the desk's live page: {base}/", flush=True)
        if args.ingest:
            threading.Thread(target=_ingest_and_show, args=(args.ingest, base, run_key), daemon=True).start()
        while not stop.is_set():
            supervisor.check()
            stop.wait(0.5)
    except GaveUp as exc:
        log.error("giving up", reason=str(exc))
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        supervisor.stop()
    return 0


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _healthy(base: str) -> bool:
    return _answers(f"{base}/healthz")


def _wait_until(url: str, supervisor, stop: threading.Event, timeout: float) -> bool:
    """Wait (supervising) until `url` answers 200."""
    deadline = time.monotonic() + timeout
    while not stop.is_set() and time.monotonic() < deadline:
        supervisor.check()
        if _answers(url):
            return True
        stop.wait(0.2)
    return False


def _ingest_and_show(path: str, url: str, api_key: str | None) -> None:
    import requests

    from headline_dedup.cli.service import post_feed, posted_summary

    auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        posted = post_feed(path, url, "title", "row", 500, api_key, wait=10)
        ids = [h["id"] for h in posted]
        queued = [h["id"] for h in posted if h.get("status") == "queued"]  # the POST waited for the others
        deadline = time.monotonic() + 60
        while queued and time.monotonic() < deadline:
            time.sleep(0.5)
            queued = [hid for hid in queued if requests.get(f"{url}/v1/headlines/{hid}", headers=auth,
                                                            timeout=10).json().get("status") == "queued"]
        clusters = requests.get(f"{url}/v1/clusters", params={"min_size": 2, "members": "true", "limit": 500},
                                headers=auth, timeout=10).json()["clusters"]
    except (requests.RequestException, SystemExit) as exc:
        print(f"ingest of {path} failed: {exc}", flush=True)
        return
    print(f"ingested {posted_summary(posted)}; its clusters with variants:")
    mine = set(ids)
    for c in (c for c in clusters if mine & {m["id"] for m in c["members"]}):
        print(f"  {c['id']} ({c['size']}): {c['representative']['text']}")
        for m in c["members"]:
            print(f"      - {m['text']}")
    print("Ctrl-C to stop.", flush=True)

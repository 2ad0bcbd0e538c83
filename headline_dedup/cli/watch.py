"""`headline-dedup watch`: live cluster updates in the terminal, resuming after disconnects."""
from __future__ import annotations

import argparse
import time

from headline_dedup.settings import Settings

STYLE = {"cluster.created": "bold green", "cluster.updated": "cyan", "cluster.representative_changed": "yellow",
         "cluster.expired": "dim", "headline.rejected": "red", "reset": "bold magenta"}


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("watch", help="live cluster updates from a running service (SSE, resumes on reconnect)")
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--since", default=None, help="start after this event id (default: from now)")
    p.add_argument("--types", default=None, help="comma-separated event types")
    p.add_argument("--min-size", type=int, default=0)
    p.set_defaults(func=cmd_watch)


def describe(kind: str, data: dict) -> str:
    who = data.get("member") or data.get("representative") or data.get("headline") or {}
    size = f" [{data['size']}]" if "size" in data else ""
    source = f" ({who['source']})" if who.get("source") else ""
    if kind == "reset":
        return f"resync needed: {data.get('reason')}"
    return f"{data.get('cluster_id', '-')}{size} {who.get('text') or ''}{source}"


def cmd_watch(args, settings: Settings) -> int:
    import requests
    from rich.console import Console
    from rich.markup import escape

    from headline_dedup.cli.sse_client import parse

    console = Console()
    last_id, backoff = args.since, 0.5
    params = {k: v for k, v in (("types", args.types), ("min_size", args.min_size or None)) if v}
    while True:
        headers = {"Last-Event-ID": last_id} if last_id else {}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key}"
        try:
            with requests.get(f"{args.url}/v1/events", params=params, headers=headers, stream=True,
                              timeout=(5, 60)) as resp:
                if resp.status_code != 200:
                    console.print(f"[red]{resp.status_code} {resp.text.strip()}[/red]")
                    return 2
                backoff = 0.5
                for e in parse(resp.iter_lines(decode_unicode=True)):
                    if e.data is None:
                        continue
                    last_id = e.id or last_id
                    stamp = time.strftime("%H:%M:%S")
                    console.print(f"[dim]{stamp}[/dim] [{STYLE.get(e.event, 'white')}]{e.event:<31}[/]"
                                  f" {escape(describe(e.event, e.data))}", highlight=False)
        except requests.RequestException as exc:
            console.print(f"[dim]disconnected ({type(exc).__name__}); resuming after {last_id or 'now'} "
                          f"in {backoff:.1f} s[/dim]")
            time.sleep(backoff)
            backoff = min(backoff * 2, 10)

"""`headline-dedup watch`: live cluster updates in the terminal, resuming after disconnects."""
from __future__ import annotations

import argparse
import time

from headline_dedup.settings import Settings

STYLE = {"cluster.created": "bold green", "cluster.updated": "cyan", "cluster.representative_changed": "yellow",
         "cluster.expired": "dim", "cluster.members_expired": "dim", "headline.rejected": "red",
         "reset": "bold magenta", "cluster.merged": "magenta", "cluster.split": "magenta", "headline.moved": "magenta"}


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
    by = f" by {data['by']}" if data.get("by") else ""
    if kind == "cluster.merged":
        return f"{data['cluster_id']}{size} took {data['merged']}'s members{by}"
    if kind == "cluster.split":
        return f"{data['cluster_id']} split: {', '.join(data['headlines'])} -> {data['new_cluster_id']}{size}{by}"
    if kind == "headline.moved":
        return f"{data['headline_id']} moved {data['from']} -> {data['cluster_id']}{size}{by}"
    return f"{data.get('cluster_id', '-')}{size} {who.get('text') or ''}{source}"


def cmd_watch(args, settings: Settings) -> int:
    from rich.console import Console
    from rich.markup import escape

    from headline_dedup.client import ApiError, Client

    console = Console()

    def cut(exc: Exception, last: str | None, wait: float) -> None:
        console.print(f"[dim]disconnected ({type(exc).__name__}); resuming after {last or 'now'} in "
                      f"{wait:.1f} s[/dim]")

    types = args.types.split(",") if args.types else None
    with Client(args.url, settings.api_key) as api:
        try:
            for e in api.events(since=args.since, types=types, min_size=args.min_size, on_cut=cut):
                stamp = time.strftime("%H:%M:%S")
                console.print(f"[dim]{stamp}[/dim] [{STYLE.get(e.type, 'white')}]{e.type:<31}[/]"
                              f" {escape(describe(e.type, e.data))}", highlight=False)
        except ApiError as exc:
            console.print(f"[red]{exc.status} {exc.code}: {escape(exc.message)}[/red]")
            return 2
    return 0

"""The `headline-dedup` console script."""
from __future__ import annotations

import argparse
import sys

from headline_dedup import logs
from headline_dedup.errors import HeadlineDedupError
from headline_dedup.runtime import tune_process
from headline_dedup.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    from headline_dedup.cli import explain, offline, serve, service, watch

    parser = argparse.ArgumentParser(prog="headline-dedup", description="Newsroom headline deduplication.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve.add_parser(sub)
    service.add_parsers(sub)
    offline.add_parsers(sub)
    explain.add_parsers(sub)
    watch.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tune_process()
    try:
        settings = Settings()
        logs.configure(settings.log_level, settings.log_format)
        return args.func(args, settings) or 0
    except HeadlineDedupError as exc:
        print(f"headline-dedup: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:  # the system's words suffice (a full disk, a closed terminal): no traceback
        print(f"headline-dedup: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The service on a long feed: the scraped headlines posted without times (every headline's event time is its
arrival, so the whole run is one live window: a backfill) and replayed with their own times as `published_at`
(the feed as it came), for the fast path with one worker and the e5 tier with two. `python -m bench backfill`."""
from __future__ import annotations

from functools import partial
from typing import Sequence

from bench import report, service
from bench.data import Row

CONFIGURATIONS = {  # name: (workers, settings)
    "fast path (default)": (1, {}),
    "e5 tier": (2, {"HEADLINE_DEDUP_JUDGE": "e5", "HEADLINE_DEDUP_EMBED_THREADS": "1"}),
}


def run(rows: Sequence[Row]) -> list[dict]:
    """Each configuration without and with times, in turn."""
    runs = []
    for name, (workers, settings) in CONFIGURATIONS.items():
        for times in (False, True):
            env = {**settings, **service.replay_settings(rows)} if times else settings
            r = service.run(rows, workers, 1000, partial(service.stack, settings=env), times=times)
            r.pop("families")
            runs.append({"configuration": name, "times": times, **r})
    return runs


def markdown(runs: list[dict]) -> str:
    n = runs[0]["headlines"] if runs else 0
    md = f"# The service on {n:,} scraped headlines: a backfill posted without times, and a replay with them\n\n"
    md += ("Bundled Redis, `headline-dedup api` and N `worker` processes (the e5 tier: two, one e5 thread each); "
           "posts of 1,000 back to back. Without times every headline's event time is its arrival, so the whole "
           "run is one live window: the band index holds every headline and a story never ends. With times each "
           "headline carries its scrape time, shifted to end a minute ago, as `published_at` (the retention set "
           "to cover the span), so the 72-hour window slides as the feed's did. Reproduce: "
           "`python -m bench backfill` (about 25 minutes at 100k).\n\n")
    md += report.table(["configuration", "workers", "event time", "headlines/s", "seconds", "p50 ms", "p99 ms",
                        "with own time", "index B per indexed"], [
        [r["configuration"], r["workers"], "own (replay)" if r["times"] else "arrival (backfill)",
         f"{r['per_second']:,.0f}", f"{r['seconds']:.1f}", f"{r['latency_ms_p50']:,.0f}",
         f"{r['latency_ms_p99']:,.0f}", f"{r['with_own_time']:,}", f"{r['index_bytes_per_indexed']:,.0f}"]
        for r in runs])
    return md

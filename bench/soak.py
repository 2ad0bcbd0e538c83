"""Soak: a steady ingest rate for minutes with 2 workers and SSE subscribers on loopback; errors, throughput,
RSS of every process and Redis memory sampled over time. `python -m bench.soak [--minutes 10]`."""
from __future__ import annotations

import argparse
import itertools
import threading
import time
from pathlib import Path

import requests

from bench import data, report
from bench.service import stack
from headline_dedup.sse import parse
from headline_dedup.settings import Settings
from headline_dedup.storage.consistency import check
from headline_dedup.storage.keys import Keys


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def families(client, keys: Keys) -> dict:
    """The sizes of the key families that once grew without bound: entries and MB (MEMORY USAGE, sampled)."""
    def mb(key):
        return (client.memory_usage(key) or 0) / 2**20
    return {"clusters": client.zcard(keys.clusters), "df_fields": client.hlen(keys.df),
            "exact_fields": client.hlen(keys.exact), "band_entries": int(client.hget(keys.bands, "#n") or 0),
            "bands_mb": mb(keys.bands), "df_mb": mb(keys.df), "exact_mb": mb(keys.exact),
            "near_entries": client.xlen(keys.near), "aging": client.zcard(keys.aging)}


def run(minutes: float, rate: float, subscribers: int, batch: int = 100, posters: int = 4) -> dict:
    rows = data.scrape(int(minutes * 60 * rate) + batch)
    errors: list[str] = []
    received = [0] * subscribers
    samples: list[dict] = []
    keys = Keys()
    with stack(workers=2) as st:
        stop = threading.Event()

        def subscriber(i):
            try:
                with requests.get(f"{st.url}/v1/events", headers=st.auth, stream=True, timeout=(5, 60)) as r:
                    for e in parse(r.iter_lines(decode_unicode=True)):
                        received[i] += e.id is not None
                        if stop.is_set():
                            return
            except requests.RequestException as exc:
                if not stop.is_set():
                    errors.append(f"subscriber {i}: {exc}")

        start = time.perf_counter()
        next_batch = itertools.count()
        posted = [0] * posters

        def poster(p):  # batches are paced on one schedule shared by all posters
            with requests.Session() as s:
                s.headers.update(st.auth)
                while True:
                    n = next(next_batch)
                    due = start + n * batch / rate
                    if due - start >= minutes * 60:
                        return
                    if (delay := due - time.perf_counter()) > 0:
                        time.sleep(delay)
                    chunk = rows[n * batch:(n + 1) * batch]
                    try:
                        resp = s.post(f"{st.url}/v1/headlines", json={"headlines": [
                            {"id": f"s{r.id}", "text": r.text, "source": r.source} for r in chunk]}, timeout=30)
                        if resp.status_code != 202:
                            errors.append(f"POST {resp.status_code}: {resp.text[:200]}")
                    except requests.RequestException as exc:
                        errors.append(f"POST: {exc}")
                    posted[p] += len(chunk)

        def sample():
            info = st.client.info("memory")
            samples.append({"t": round(time.perf_counter() - start), "posted": sum(posted),
                            "backlog": st.client.xlen(keys.ingest),
                            "redis_used_mb": info["used_memory"] / 2**20,
                            **{f"rss_{k}_mb": rss_mb(p) for k, p in st.pids.items()},
                            **families(st.client, keys)})

        threads = [threading.Thread(target=subscriber, args=(i,), daemon=True) for i in range(subscribers)]
        threads += [threading.Thread(target=poster, args=(p,), daemon=True) for p in range(posters)]
        for t in threads:
            t.start()
        sample()
        while any(t.is_alive() for t in threads[subscribers:]):
            time.sleep(15 - (time.perf_counter() - start) % 15)
            sample()
        elapsed = time.perf_counter() - start
        deadline = time.monotonic() + 60
        while st.client.xlen("{hd:default}:ingest") and time.monotonic() < deadline:
            time.sleep(0.2)
        sample()
        stats = requests.get(f"{st.url}/v1/stats", headers=st.auth, timeout=10).json()
        stop.set()
        # Every cluster against its members' records: members of the clusters that lived past retention left
        # with their records, so none is unverifiable (`headline-dedup check`).
        consistency = check(st.client, keys)
    return {"minutes": minutes, "rate_target": rate, "posted": sum(posted), "rate_actual": sum(posted) / elapsed,
            "posters": posters, "batch": batch, "errors": len(errors), "error_samples": errors[:10],
            "subscribers": subscribers, "events_per_subscriber_min": min(received),
            "events_per_subscriber_max": max(received), "final_stats": stats, "samples": samples,
            "consistency": {"clusters": consistency.clusters, "members": consistency.members,
                            "unverifiable": consistency.unverifiable, "problems": consistency.problems[:10]}}


def plot(samples: list[dict], path: Path) -> Path:
    t = [s["t"] / 60 for s in samples]
    with report.figure(path, "Soak: resident memory of each process and Redis used memory", "minutes",
                       "MB") as ax:
        for key in [k for k in samples[0] if k.startswith(("rss_", "redis_"))]:
            ax.plot(t, [s[key] for s in samples], label=key.removesuffix("_mb").replace("_", " "))
        ax.legend(fontsize=8)
    return path


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.soak")
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--rate", type=float, default=500)
    p.add_argument("--subscribers", type=int, default=50)
    p.add_argument("--posters", type=int, default=4, help="concurrent posting clients (one schedule)")
    p.add_argument("--out", type=Path, default=report.RESULTS)
    args = p.parse_args()
    r = run(args.minutes, args.rate, args.subscribers, posters=args.posters)
    settings = Settings()  # what the service processes read from the same environment
    keys = [k for k in r["samples"][0] if k.startswith(("rss_", "redis_"))]
    counted = [k for k in r["samples"][0] if k not in ("t", "posted", "backlog", *keys)]
    png = plot(r["samples"], args.out / "soak.png")
    peaks = ", ".join(f"{k.removeprefix('rss_').removesuffix('_mb')} {max(s[k] for s in r['samples']):.0f} MB"
                      for k in keys if k.startswith("rss_"))
    md = (f"# Soak: {args.minutes:g} min at {args.rate:g} headlines/s, 2 workers, {args.subscribers} SSE "
          f"subscribers\n\n"
          f"Posted {r['posted']:,} ({r['rate_actual']:.0f}/s, {r['posters']} posting clients, batches of "
          f"{r['batch']}), errors {r['errors']}, events per subscriber "
          f"{r['events_per_subscriber_min']:,}-{r['events_per_subscriber_max']:,}; final: {r['final_stats']}.\n\n"
          f"Peak RSS: {peaks}. Redis used memory {r['samples'][0]['redis_used_mb']:.0f} MB at the start, "
          f"{r['samples'][-1]['redis_used_mb']:.0f} MB at the end (headlines and clusters are kept "
          f"{settings.retention_days:g} days, the candidate index {settings.window_hours:g} h, expiry every "
          f"{settings.expiry_interval_seconds:g} s).\n\n"
          f"![memory over time]({png.name})\n\n")
    md += report.table(["t (s)", "posted", "backlog", *keys], [
        [s["t"], f"{s['posted']:,}", s["backlog"], *(f"{s[k]:.0f}" for k in keys)] for s in r["samples"]])
    md += "\nThe key families that once grew without bound (entries; MB by MEMORY USAGE, sampled):\n\n"
    md += report.table(["t (s)", *counted], [
        [s["t"], *(f"{s[k]:,.1f}" if k.endswith("_mb") else f"{s[k]:,}" for k in counted)] for s in r["samples"]])
    c = r["consistency"]
    md += (f"\nAfterwards, `headline-dedup check`: {c['clusters']:,} clusters, {c['members']:,} members, "
           f"{c['unverifiable']} with a member whose record has expired, {len(c['problems'])} problems "
           f"{c['problems']}.\n")
    print(report.write("soak", r, md, args.out).read_text())


if __name__ == "__main__":
    main()

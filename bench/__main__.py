"""`python -m bench [offline ...] [--size N] [--smoke]`: run benchmarks and write bench/results/."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import data, offline, report
from headline_dedup import logs
from headline_dedup.runtime import tune_process


def run_offline(size: int, out_dir: Path) -> Path:
    rows = data.scrape(size)
    a = offline.ours(rows, chunk=max(1, size // 10))
    b = offline.datasketch_loop(rows)
    b.pop("labels")
    md = f"# Offline clustering speed ({size:,} scraped headlines, scrape-time order, one core)\n\n"
    md += report.table(["method", "headlines/s", "seconds", "clusters", "ratio (ours = 1)"], [
        [r["name"], f"{r['per_second']:,.0f}", f"{r['seconds']:.1f}", f"{r['clusters']:,}",
         f"{r['per_second'] / a['per_second']:.2f}"] for r in (a, b)])
    md += "\nCost per headline as the index grows (ours):\n\n"
    md += report.table(["headlines seen", "index size", "µs per headline"],
                       [[f"{c['indexed']:,}", f"{c['index_size']:,}", f"{c['us_per_headline']:.0f}"]
                        for c in a["curve"]])
    return report.write("offline", {"size": size, "ours": a, "datasketch_loop": b}, md, out_dir)


def run_service(size: int, out_dir: Path) -> Path:
    from bench import service

    rows = data.scrape(size)
    runs = [service.run(rows if batch > 1 else rows[:max(1, size // 10)], workers, batch)
            for workers in (1, 2) for batch in (1000, 100, 1)]
    offline_rate = offline.ours(rows)["per_second"]
    md = f"# The service end to end ({size:,} scraped headlines; batch 1 on a tenth of them)\n\n"
    md += ("Bundled redis-server, `headline-dedup api` (gunicorn gthread) and N `headline-dedup worker` processes; "
           "one client posting batches back to back; latency = clustered_at - received_at.\n\n")
    md += report.table(["workers", "batch", "headlines/s", "p50 ms", "p99 ms", "ratio to offline",
                        "Redis B per headline (INFO)", "index B per indexed"], [
        [r["workers"], r["batch"], f"{r['per_second']:,.0f}", f"{r['latency_ms_p50']:.0f}",
         f"{r['latency_ms_p99']:.0f}", f"{r['per_second'] / offline_rate:.2f}",
         f"{r['used_memory_per_headline']:,.0f}", f"{r['index_bytes_per_indexed']:,.0f}"] for r in runs])
    md += f"\nOffline `cluster` on the same rows in the same run: {offline_rate:,.0f} headlines/s.\n"
    return report.write("service", {"size": size, "offline_per_second": offline_rate, "runs": runs}, md, out_dir)


def run_serve(size: int, out_dir: Path) -> Path:
    from bench import serve, service

    n = min(size, 20_000)
    rows = data.scrape(n)
    runs = [{"stack": "serve (supervised processes)", **service.run(rows, 1, 1000, serve.serve_stack)},
            {"stack": "api + worker processes", **service.run(rows, 1, 1000)}]
    streams = 500 if size >= 1000 else 20
    idle = {name: serve.idle_streams(make, streams, 200 if size >= 1000 else 20)
            for name, make in (("serve", serve.serve_stack), ("api + worker", service.stack))}
    md = f"# `serve` against `api` + `worker`, and {streams} idle event streams\n\n"
    md += (f"{n:,} scraped headlines posted in batches of 1,000 by one client until each is decided; the same run "
           "for both stacks, one clustering worker each.\n\n")
    md += report.table(["stack", "headlines/s", "p50 ms", "p99 ms", "ratio"], [
        [r["stack"], f"{r['per_second']:,.0f}", f"{r['latency_ms_p50']:.0f}", f"{r['latency_ms_p99']:.0f}",
         f"{r['per_second'] / runs[1]['per_second']:.2f}"] for r in runs])
    md += (f"\nRequest latency (one client, a 10-headline POST then GET /readyz, "
           f"{idle['serve']['samples']} each) without and with {streams} idle event streams open:\n\n")
    md += report.table(["stack", "streams", "POST p50 ms", "POST p99 ms", "readyz p50 ms", "readyz p99 ms"], [
        [name, k, f"{r[w]['post']['p50_ms']:.1f}", f"{r[w]['post']['p99_ms']:.1f}",
         f"{r[w]['readyz']['p50_ms']:.1f}", f"{r[w]['readyz']['p99_ms']:.1f}"]
        for name, r in idle.items() for w, k in (("without", 0), ("with", streams))])
    return report.write("serve", {"runs": runs, "idle_streams": idle}, md, out_dir)


def run_events(size: int, out_dir: Path) -> Path:
    from bench import events

    n = min(size, 4000)
    r = events.run(data.scrape(n), rate=200, subscribers=50)
    md = (f"# POST -> SSE event latency ({n:,} headlines at {r['rate_target']:.0f}/s, "
          f"{r['subscribers']} subscribers)\n\n")
    md += report.table(["rate achieved", "deliveries", "p50 ms", "p99 ms", "max ms"], [[
        f"{r['rate_actual']:.0f}/s", f"{r['deliveries']:,} / {r['expected_deliveries']:,}",
        f"{r['latency_ms_p50']:.0f}", f"{r['latency_ms_p99']:.0f}", f"{r['latency_ms_max']:.0f}"]])
    md += ("\nBundled Redis, `headline-dedup api` (gunicorn gthread), one `worker`; latency from just before the "
           "POST to the subscriber reading the event (`cluster.created`/`cluster.updated`).\n")
    return report.write("events", r, md, out_dir)


def run_durability(size: int, out_dir: Path) -> Path:
    from bench import durability

    runs = [durability.run(mode, seconds=0.5 if size < 1000 else 3.0) for mode in ("everysec", "always")
            for _ in range(3)]
    md = "# Bundled Redis killed (SIGKILL) under ingest: acknowledged headlines lost\n\n"
    md += report.table(["appendfsync", "acknowledged", "lost", "ingests/s", "loss window s"], [
        [r["appendfsync"], f"{r['acknowledged']:,}", r["lost"], f"{r['writes_per_second']:,.0f}",
         f"{r['loss_window_seconds']:.3f}"] for r in runs])
    md += ("\nA killed redis-server process loses nothing it acknowledged under either mode: Redis write()s the "
           "AOF before it replies, and the kernel keeps those pages. What `everysec` risks (up to about 1-2 s of "
           "acknowledged writes) is an operating-system crash or power loss before the next fsync, which "
           "cannot be produced on this machine; `always` fsyncs before replying and is the setting for zero "
           "loss there too, at the write rate shown.\n")
    return report.write("durability", {"runs": runs}, md, out_dir)


def run_scaling(size: int, out_dir: Path) -> Path:
    from bench import scaling

    smoke = size < 1000
    sizes, chunk = ([200, 500], 100) if smoke else ([10_000, 100_000, 300_000, 600_000], 10_000)
    runs = scaling.run(sizes, chunk)
    curve = runs[-1]["curve"]
    flat = scaling.flatness(curve)
    png = scaling.plot(curve, out_dir / "scaling.png")
    md = "# Offline `cluster` as the stream grows (scraped headlines in scrape-time order, one core)\n\n"
    md += report.table(["headlines", "headlines/s", "seconds", "peak RSS MB", "of which input rows MB"], [
        [f"{r['size']:,}", f"{r['per_second']:,.0f}", f"{r['seconds']:.1f}", f"{r['peak_rss_mb']:.0f}",
         f"{r['input_rss_mb']:.0f}"] for r in runs])
    md += (f"\nCost per headline over the {runs[-1]['size']:,}-headline run ({chunk:,} per point): last chunk / "
           f"first = **{flat['last_over_first']:.2f}**, slowest / fastest chunk = {flat['max_over_min']:.2f}. "
           f"The candidate index holds only the sliding window (72 h).\n\n![cost per headline]({png.name})\n\n")
    md += report.table(["headlines seen", "index size", "µs per headline"],
                       [[f"{c['indexed']:,}", f"{c['index_size']:,}", f"{c['us_per_headline']:.0f}"]
                        for c in curve[::max(1, len(curve) // 12)]])
    return report.write("scaling", {"runs": runs, "flatness": flat}, md, out_dir)


def run_memory(size: int, out_dir: Path) -> Path:
    from bench import memory

    checkpoints = [200, 500] if size < 1000 else [100_000, 600_000]
    snaps = memory.run(data.scrape(max(checkpoints)), checkpoints)
    md = "# Redis memory per headline (ingest and worker code paths, bundled Redis 6.2)\n\n"
    md += report.table(["headlines", "headlines/s", "indexed (not re-sends)", "band table B per indexed",
                        "index B per indexed (bands + meaning)", "all state MB", "INFO used_memory B per headline",
                        "key families B per headline"], [
        [f"{s['headlines']:,}", f"{s['per_second']:,.0f}", f"{s['indexed']:,}", f"{s['band_bytes_per_indexed']:,.0f}",
         f"{s['index_bytes_per_indexed']:,.0f}", f"{s['used_memory_bytes'] / 2**20:,.1f}",
         f"{s['bytes_per_headline']:,.0f}", f"{s['families_bytes_per_headline']:,.0f}"] for s in snaps])
    md += (f"\nThe index is the band table (`bands`) and the index by meaning (`near`: word rows that workers mirror; "
           f"`sv`: the semantic judge's vectors, none on the default fast path). By key family at "
           f"{snaps[-1]['headlines']:,} headlines (MEMORY USAGE; families of many keys sampled):\n\n")
    md += report.table(["family", "keys", "MB", "bytes per headline"], memory.families_table(snaps[-1]))
    return report.write("memory", {"snapshots": snaps}, md, out_dir)


def run_rivals(size: int, out_dir: Path, with_text_dedup: bool = True) -> Path:
    from bench import memory, rivals

    smoke = size < 1000
    rows, dev = data.scrape(size), data.dev()[:300] if smoke else data.dev()
    subset = rows[:200 if smoke else 10_000]
    ours = offline.ours(rows)
    methods = [{"name": "headline-dedup cluster (ours)", "rows": len(rows), "per_second": ours["per_second"],
                **rivals.quality(rivals.ours_labels(dev), dev)}]
    loop = offline.datasketch_loop(rows)
    methods.append({"name": "datasketch MinHashLSH loop, in memory", "rows": len(rows),
                    "per_second": loop["per_second"], **rivals.quality(offline.datasketch_loop(dev)["labels"], dev)})
    on_redis = rivals.datasketch_redis(subset)
    ours_redis = memory.run(subset, [len(subset)])[0]
    methods.append({"name": "headline-dedup on Redis (ingest + worker code paths, no HTTP)", "rows": len(subset),
                    "per_second": ours_redis["per_second"], "pair_f1": methods[0]["pair_f1"],
                    "bcubed_f1": methods[0]["bcubed_f1"], "note": "same engine and decisions as `cluster`; "
                    f"{ours_redis['bytes_per_headline']:,.0f} bytes of Redis per headline, all state"})
    methods.append({"name": "datasketch MinHashLSH, Redis storage", "rows": len(subset),
                    "per_second": on_redis["per_second"],
                    **rivals.quality(rivals.datasketch_redis(dev)["labels"], dev),
                    "note": f"{on_redis['redis_bytes_per_headline']:,.0f} bytes of Redis per headline"})
    for name, options in rivals.TEXT_DEDUP_SETTINGS.items():
        entry = {"name": name, "rows": len(rows)}
        try:
            if not with_text_dedup:
                raise rivals.Unavailable("not run (smoke run: installing text-dedup takes minutes)")
            run = rivals.text_dedup(rows, options)
            entry.update(per_second=run["per_second"], **rivals.quality(rivals.text_dedup(dev, options)["labels"], dev))
        except rivals.Unavailable as exc:
            entry["note"] = str(exc)
        methods.append(entry)
    return report.write("rivals", {"methods": methods}, rivals.markdown(methods, ours["per_second"]), out_dir)


def run_ceiling(size: int, out_dir: Path) -> Path:
    from bench import ceiling

    bars = [0.45, 0.3] if size < 1000 else [0.45, 0.4, 0.35, 0.3, 0.25]
    runs = ceiling.run(data.dev()[:300] if size < 1000 else data.dev(), bars)
    names = list(ceiling.SEED_GROUPS)
    md = ("# The seed feed's missed groups against the dev set: candidates from LSH or from every earlier "
          "headline\n\n")
    md += report.table(["candidates", "live bar", "dev pair P", "pair R", "pair F1", "B³ F1", *names], [
        [r["candidates"], f"{r['live_threshold']:.2f}", f"{r['pair_precision']:.3f}", f"{r['pair_recall']:.3f}",
         f"{r['pair_f1']:.3f}", f"{r['bcubed_f1']:.4f}", *("together" if r["seed_groups"][n] else "apart"
                                                            for n in names)] for r in runs])
    md += ("\nThe seed has no times, so its stories are all live and the live bar decides them; dev is in time "
           "order. Every other setting is the default (`threshold` 0.6, the core rule).\n")
    return report.write("ceiling", {"runs": runs}, md, out_dir)


def run_quality(size: int, out_dir: Path) -> Path:
    from bench import quality

    r = quality.run(min(size, 20_000))
    md = "# Quality and speed of each candidate/judge configuration (one run)\n\n"
    md += ("Editor-judged dev pairs (`fr-news-day/dev-adjudicated.tsv`, pooled: precision = SAME among the "
           "system's judged pairs, recall = SAME found / all SAME; unjudged = the system's pairs no one judged), "
           "the silver labels, and the seed feed's 16 same-story pairs (`bench/quality.py` lists them).\n\n")
    md += report.table(["configuration", "precision", "recall", "F1", "DIFF", "UNSURE", "unjudged",
                        "silver pair F1", "silver B³ F1", "seed pairs", "seed false pairs"], [
        [name, f"{d['judged']['precision']:.3f}", f"{d['judged']['recall']:.3f}", f"{d['judged']['f1']:.3f}",
         d["judged"]["diff_made"], d["judged"]["unsure_made"], d["judged"]["unjudged"],
         f"{d['silver_pair_f1']:.3f}", f"{d['silver_bcubed_f1']:.4f}",
         f"{r['seed'][name]['found']} of {r['seed'][name]['required']}",
         ", ".join(map(str, r["seed"][name]["false"])) or "none"] for name, d in r["dev"].items()])
    md += "\nFrench STS headline pairs (score >= 4 same, <= 2 different), word overlap alone and with the e5 tier:\n\n"
    md += report.table(["rule", "precision", "recall"], [
        ["word overlap (threshold 0.6)" if s["e5_bar"] is None else f"+ e5 >= {s['e5_bar']:.2f}",
         f"{s['precision']:.3f}", f"{s['recall']:.3f}"] for s in r["sts"]])
    md += (f"\nSpeed: `cluster` on the first {r['speed_rows']:,} scraped headlines (scrape-time order), one process, "
           "each configuration paying for its own embeddings:\n\n")
    md += report.table(["configuration", "headlines/s", "seconds", "headlines embedded by e5"], [
        [name, f"{s['per_second']:,.0f}", f"{s['seconds']:.1f}", f"{s['embedded']:,}"]
        for name, s in r["speed"].items()])
    e5_rows = max((s["headlines"] for s in r["service"] if s["configuration"] == "e5 tier"), default=0)
    md += ("\nThrough the service (bundled Redis, `headline-dedup api`, N `worker` processes, e5 with one thread each "
           "when there are two, the e5 tier's workers reading batches of 250 (its default); posts of 1,000; event "
           f"time = arrival, so every story is live), the e5 tier on the first {e5_rows:,} headlines:\n\n")
    md += report.table(["configuration", "workers", "headlines", "headlines/s", "p50 ms", "p99 ms"], [
        [s["configuration"], s["workers"], f"{s['headlines']:,}", f"{s['per_second']:,.0f}",
         f"{s['latency_ms_p50']:,.0f}", f"{s['latency_ms_p99']:,.0f}"] for s in r["service"]])
    return report.write("quality", r, md, out_dir)


ARITHMETIC = (
    "\nWhat scales and what does not. A namespace is one hash tag, so one slot on one master, decided by one worker "
    "at a time: its ceiling is one worker's rate (about 2,000 headlines/s here) whatever the cluster's size. "
    "Namespaces are independent: each needs about one core for its worker plus a share of its master's core, so "
    "N machines of this kind carry about N namespaces at full speed (2 cores each: one worker and one Redis master, "
    "or two workers whose masters live elsewhere), and the cluster's memory adds up the same way (each master holds "
    "its namespaces' keys). On this 2-core machine two namespaces use both cores (1.55× one) and a third adds "
    "nothing: the workers, the three Redis masters and the ingest share two cores. Nothing crosses namespaces: a "
    "story posted to two namespaces is two stories. Times include each worker's start (loading the word vectors).\n")


def run_cluster(size: int, out_dir: Path) -> Path:
    from bench import cluster

    rows = data.scrape(min(size, 20_000))
    runs = [cluster.run(rows, n) for n in (1, 2, 3)]
    one = runs[0]["per_second"]
    md = (f"# Namespaces in parallel on a real Redis Cluster ({len(rows):,} scraped headlines per namespace)\n\n"
          "3 masters (bundled redis-server, `cluster-enabled yes`, slots assigned through redis-py), one namespace "
          "per master, one `headline-dedup worker` per namespace (the fast path, default settings); headlines "
          "queued first, then the workers start together. Reproduce: `python -m bench cluster`.\n\n")
    md += report.table(["namespaces", "headlines", "seconds", "headlines/s", "per namespace", "vs one"], [
        [r["namespaces"], f"{r['headlines']:,}", f"{r['seconds']:.1f}", f"{r['per_second']:,.0f}",
         ", ".join(f"{v:,.0f}" for v in r["per_namespace"].values()), f"{r['per_second'] / one:.2f}×"]
        for r in runs])
    md += ARITHMETIC
    return report.write("cluster", {"runs": runs}, md, out_dir)


def run_backfill(size: int, out_dir: Path) -> Path:
    from bench import backfill

    runs = backfill.run(data.scrape(size))
    return report.write("backfill", {"runs": runs}, backfill.markdown(runs), out_dir)


def run_e5calls(size: int, out_dir: Path) -> Path:
    from bench import e5calls

    n = 384 if size >= 10_000 else 8  # titles each process embeds per call size and round (--smoke: 8)
    runs = e5calls.run([r.text for r in data.scrape(n + 1000)][1000:])
    return report.write("e5calls", {"runs": runs}, e5calls.markdown(runs), out_dir)


BENCHMARKS = {"offline": run_offline, "scaling": run_scaling, "memory": run_memory, "rivals": run_rivals,
              "service": run_service, "serve": run_serve, "events": run_events, "durability": run_durability,
              "ceiling": run_ceiling, "quality": run_quality, "cluster": run_cluster,
              "backfill": run_backfill, "e5calls": run_e5calls}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("names", nargs="*", choices=[[]] + list(BENCHMARKS), default=[],
                   help="benchmarks to run (default: all)")
    p.add_argument("--size", type=int, default=100_000, help="headlines for the offline benchmark")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, results under bench/results/smoke")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    tune_process()  # as the console script does
    logs.configure("WARNING", "console")  # the workers run in-process in some benchmarks: keep the reports clean
    out_dir = args.out or (report.RESULTS / "smoke" if args.smoke else report.RESULTS)
    size = 500 if args.smoke else args.size
    for name in args.names or list(BENCHMARKS):
        path = (run_rivals(size, out_dir, with_text_dedup=not args.smoke) if name == "rivals"
                else BENCHMARKS[name](size, out_dir))
        print(path.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

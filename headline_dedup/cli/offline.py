"""The engine's offline commands: `cluster`, `evaluate`, `evaluate-pairs` (`explain` is in cli/explain.py)."""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Iterator, Sequence

from headline_dedup.clustering import PolicyParams
from headline_dedup.engine import EngineConfig
from headline_dedup.errors import InvalidHeadline, InvalidRequest
from headline_dedup.encoders import ENCODERS, encoders_for
from headline_dedup.evaluation import largest_cluster, score, without_cluster
from headline_dedup.feeds import FeedRow, open_input, read_article, read_feed
from headline_dedup.judged import Judgements, pooled
from headline_dedup.normalize import Normalizer
from headline_dedup.offline import cluster_rows, history_frequencies, memory_engine
from headline_dedup.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cluster", help="cluster a feed offline; TSV id<TAB>cluster_id on stdout",
                       description="Cluster a feed offline: a TSV with a header, plain text (one headline per line, "
                                   "or a list of \"- \" headlines followed by one article, as the seed feed), or "
                                   "with --article one or more article files, each ONE item (its path is its id).")
    _input_args(p, several=True)
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("evaluate", help="pairwise and B-cubed scores against a labelled TSV")
    _input_args(p)
    p.add_argument("--label-column", default="cluster_id")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--sweep", action="store_true", help="scores over a range of thresholds")
    p.add_argument("--history", default=None,
                   help="earlier headlines (TSV or plain text, --text-column) to learn document frequencies from "
                        "first, as a running service has them; their clusters are not scored")
    p.add_argument("--history-limit", type=int, default=None, help="read at most this many history rows")
    p.add_argument("--pairs", default=None,
                   help="editor-judged pairs (TSV row_a, row_b, label SAME|DIFF|UNSURE): pooled precision and "
                        "recall first, the labels' (silver) figures second")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("evaluate-pairs", help="verifier precision/recall on scored headline pairs (STS style)")
    p.add_argument("input", help="TSV with a header: two headline columns and a similarity score")
    p.add_argument("--a-column", default="fr_sentence1")
    p.add_argument("--b-column", default="fr_sentence2")
    p.add_argument("--score-column", default="score")
    p.add_argument("--duplicate-min", type=float, default=4.0, help="score >= this: duplicate")
    p.add_argument("--different-max", type=float, default=2.0, help="score <= this: different")
    p.add_argument("--lang", default="fr")
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--sweep", action="store_true")
    p.set_defaults(func=cmd_evaluate_pairs)



SWEEP = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)


def _input_args(p: argparse.ArgumentParser, several: bool = False) -> None:
    if several:
        p.add_argument("input", nargs="+", help="TSV with a header, plain text (one headline per line, or a list of "
                                                "\"- \" headlines then one article), or - for stdin; several with "
                                                "--article")
        article_arg(p)
    else:
        p.add_argument("input", help="TSV with a header, plain text (one headline per line, or a list of \"- \" "
                                     "headlines then one article), or - for stdin")
    p.add_argument("--text-column", default="title")
    p.add_argument("--id-column", default="row")
    p.add_argument("--time-column", default=None,
                   help="event time column, ISO 8601 or RFC 2822 (no zone: UTC); drives the sliding window and "
                        "which stories are live; without it the rows count as arriving together")
    p.add_argument("--lang", default="fr")
    p.add_argument("--threshold", type=float, default=None, help="join score at any age (default from settings)")
    p.add_argument("--live-threshold", type=float, default=None,
                   help="join score for a live story (default from settings)")
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--single-process", action="store_true",
                   help="find candidates and decide in this process only (by default, with two cores or more, a "
                        "second process finds each next batch's candidates meanwhile: the same clusters, sooner)")
    encoder_args(p)


def encoder_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vectors", choices=ENCODERS, default=None,
                   help="sentence vectors whose nearest earlier headlines are candidates too: words (French word "
                        "vectors), e5 (in process, 24-36 headlines/s a core), http (an OpenAI-compatible embeddings "
                        "server, --embeddings-url) or none (default from settings: words)")
    p.add_argument("--judge", choices=[e for e in ENCODERS if e != "words"], default=None,
                   help="the semantic verifier tier: e5 or http judges the decisions word overlap leaves open "
                        "(default from settings: none)")
    p.add_argument("--embeddings-url", default=None, help="the embeddings server of http")


def article_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--article", action="store_true",
                   help="each input file is ONE article: a title line (\"Titre : \" before it is dropped), then "
                        "the body; without a title (the first line starts with a date or ends with a full stop) "
                        "the body's lead sentence stands in")


def feed_rows(inputs: str | Sequence[str], article: bool, text_column: str = "title", id_column: str = "row",
              time_column: str | None = None) -> Iterator[FeedRow]:
    """The rows of one feed, or with `article` one row per input file (its path as id). Checked first: several
    inputs need `article` (the line-number ids of two feeds would collide), stdin is read once, every file
    exists."""
    inputs = [inputs] if isinstance(inputs, str) else list(inputs)
    if not article and len(inputs) != 1:
        raise InvalidRequest("invalid_input", f"{len(inputs)} inputs: give one feed, or article files with --article")
    if inputs.count("-") > 1:
        raise InvalidRequest("invalid_input", "- (stdin) can be read once")
    missing = [p for p in inputs if p != "-" and not Path(p).is_file()]
    if missing:
        raise InvalidRequest("invalid_input", f"no such file: {', '.join(missing)}")
    if article:  # read whole before the first row is used: a bad file fails the command before any output
        return iter([_article(path) for path in inputs])
    return _feed(inputs[0], text_column, id_column, time_column)


def _article(path: str) -> FeedRow:
    with open_input(path) as stream:
        return read_article(stream, path, "stdin" if path == "-" else path)


def _feed(path: str, text_column: str, id_column: str, time_column: str | None) -> Iterator[FeedRow]:
    with open_input(path) as stream:
        yield from read_feed(stream, text_column, id_column, time_column)


def _config(args, settings: Settings) -> EngineConfig:
    config = settings.engine_config()
    if args.threshold is not None:
        config = replace(config, policy=replace(config.policy, threshold=args.threshold))
    if getattr(args, "live_threshold", None) is not None:
        config = replace(config, policy=replace(config.policy, live_threshold=args.live_threshold))
    return config


def settings_normalizer(settings: Settings) -> Normalizer:
    from headline_dedup.aliases import default_aliases

    return Normalizer(default_aliases(settings.aliases_file))


def progress_bar():
    """A rich progress bar on stderr when it is a terminal, else a context yielding None."""
    if not sys.stderr.isatty():
        return nullcontext(None)
    from rich.progress import Progress

    from rich.console import Console

    return Progress(transient=True, console=Console(stderr=True))


def settings_encoders(args, settings: Settings, cached: bool = False):
    """(candidate vectors, judge) encoders from the flags or the settings."""
    return encoders_for(args.vectors or settings.vectors, args.judge or settings.judge,
                        args.embeddings_url or settings.embeddings_url, cached)


def cmd_cluster(args, settings: Settings) -> int:
    candidates, judge = settings_encoders(args, settings)
    engine = memory_engine(_config(args, settings), settings_normalizer(settings), settings.window_hours * 3600,
                           candidates=candidates, judge=judge)
    rows = feed_rows(args.input, args.article, args.text_column, args.id_column, args.time_column)
    first = next(rows, None)  # a feed whose header is wrong fails here, before any output
    rows = itertools.chain([first] if first is not None else [], rows)
    out = sys.stdout
    out.write("id\tcluster_id\n")
    with progress_bar() as bar:
        task = bar.add_task("clustering", total=None) if bar else None
        tick = (lambda n: bar.advance(task, n)) if bar else None
        for row, decision in cluster_rows(rows, engine, args.lang, args.batch_size, tick,
                                          ahead=not args.single_process):
            out.write(f"{row.id}\t{decision.cluster_id or ''}\n")
    return 0


def _evaluate_once(rows, config, settings, args, history=None, judged=None, encoders=(None, None)):
    engine = memory_engine(config, settings_normalizer(settings), settings.window_hours * 3600, history, *encoders)
    decided = cluster_rows(rows, engine, args.lang, args.batch_size, ahead=not args.single_process)
    labels = [d.cluster_id or f"rejected:{r.id}" for r, d in decided]
    gold = [r.label for r in rows]
    big = largest_cluster(gold)
    out = {"all": score(labels, gold).as_dict(), "without_largest": without_cluster(labels, gold, big).as_dict(),
           "largest_cluster": big}
    if judged is not None:
        keys = _normalized_keys(rows, settings_normalizer(settings), args.lang)
        out["judged"] = pooled([r.id for r in rows], labels, judged, keys).as_dict()
    return out


def _normalized_keys(rows, normalizer: Normalizer, lang: str) -> dict[str, str]:
    keys = {}
    for r in rows:
        try:
            keys[r.id] = normalizer.normalize(r.text, lang).key
        except InvalidHeadline:
            pass
    return keys


def cmd_evaluate(args, settings: Settings) -> int:
    with open_input(args.input) as stream:
        rows = list(read_feed(stream, args.text_column, args.id_column, args.time_column, args.label_column))
    if args.time_column:
        rows.sort(key=lambda r: r.timestamp)
    history = None
    if args.history:
        with open_input(args.history) as stream:
            earlier = itertools.islice(read_feed(stream, args.text_column), args.history_limit)
            history = history_frequencies(earlier, settings_normalizer(settings), args.lang)
    judged = None
    if args.pairs:
        with open_input(args.pairs) as stream:
            judged = Judgements.read(stream)
    base = _config(args, settings)
    encoders = settings_encoders(args, settings, cached=True)
    # On a day of news most joins happen while a story is live: the sweep moves the live bar (and the any-age
    # bar with it where the live bar passes it). `evaluate-pairs --sweep` shows the any-age bar alone.
    policies: list[PolicyParams] = [base.policy]
    if args.sweep:
        policies = [replace(base.policy, live_threshold=t, threshold=max(t, base.policy.threshold))
                    for t in SWEEP]
    results = [{"live_threshold": p.live_threshold, "threshold": p.threshold,
                **_evaluate_once(rows, replace(base, policy=p), settings, args, history, judged, encoders)}
               for p in policies]
    if args.json:
        json.dump(results if args.sweep else results[0], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{len(rows)} headlines, {results[0]['all']['true_pairs']} labelled pairs; "
          f"largest labelled cluster {results[0]['largest_cluster']}"
          + (f"; document frequencies of {history[1]:,} earlier headlines first" if history else ""))
    if judged is not None:
        _print_judged(results, len(judged.labels))
        print("silver labels (an aggregator's clusters):")
    print("live_thr  threshold  pair_P  pair_R  pair_F1  b3_P   b3_R   b3_F1  | w/o largest: pair_F1  b3_F1")
    for r in results:
        a, w = r["all"], r["without_largest"]
        print(f"{r['live_threshold']:8.2f}  {r['threshold']:9.2f}  {a['pair_precision']:.3f}   "
              f"{a['pair_recall']:.3f}   {a['pair_f1']:.3f}  "
              f" {a['bcubed_precision']:.3f}  {a['bcubed_recall']:.3f}  {a['bcubed_f1']:.3f}  |"
              f"              {w['pair_f1']:.3f}  {w['bcubed_f1']:.3f}")
    if args.sweep:
        print(recommendation(results, judged is not None))
    return 0


RECOMMEND_PRECISION = 0.9  # a desk reads every join: one wrong in ten is the most it should see


def recommendation(results: list[dict], judged: bool) -> str:
    """The sweep's advice: the live threshold with the best recall at precision RECOMMEND_PRECISION or more
    (editor-judged pairs when given, else the labels' pairs), else the most precise one; and how to apply it."""
    def pr(r):
        j = r["judged"] if judged else None
        return (j["precision"], j["recall"]) if j else (r["all"]["pair_precision"], r["all"]["pair_recall"])
    precise = [r for r in results if pr(r)[0] >= RECOMMEND_PRECISION]
    best = max(precise, key=lambda r: (pr(r)[1], r["live_threshold"])) if precise else max(results, key=lambda r: pr(r))
    p, r = pr(best)
    basis = "editor-judged pairs" if judged else "labelled pairs"
    why = (f"the best recall at precision {RECOMMEND_PRECISION} or more" if precise
           else f"no threshold reaches precision {RECOMMEND_PRECISION}: the most precise one")
    body = json.dumps({"live_threshold": best["live_threshold"], "threshold": best["threshold"]})
    return (f"recommended: live_threshold {best['live_threshold']:.2f}, threshold {best['threshold']:.2f} ({why}; "
            f"{basis}: precision {p:.3f}, recall {r:.3f}); on a running service, an admin key applies it with\n"
            f"  curl -X PUT $URL/v1/settings/policy -H \"$AUTH\" -H 'content-type: application/json' -d '{body}'")


def _print_judged(results, judged_pairs: int) -> None:
    first = results[0]["judged"]
    print(f"editor-judged pairs: {judged_pairs:,} ({first['same_total']:,} SAME once {first['trivial']} trivial "
          "pairs are left out)")
    print("live_thr  threshold  precision  recall  F1     SAME  DIFF  UNSURE  unjudged")
    for r in results:
        j = r["judged"]
        print(f"{r['live_threshold']:8.2f}  {r['threshold']:9.2f}  {j['precision']:9.3f}  {j['recall']:6.3f}  "
              f"{j['f1']:.3f}  {j['same_found']:4d}  {j['diff_made']:4d}  {j['unsure_made']:6d}  {j['unjudged']:8d}")
    worst = max(r["judged"]["unjudged"] / max(1, r["judged"]["same_found"] + r["judged"]["diff_made"]
                                               + r["judged"]["unjudged"]) for r in results)
    if worst > 0.1:
        print(f"warning: up to {worst:.0%} of the system's pairs were never judged: precision is uncertain until a "
              "sample of them is judged blind")


def cmd_evaluate_pairs(args, settings: Settings) -> int:
    from headline_dedup.clustering import Policy
    from headline_dedup.pairs import read_scored_pairs, score_pairs

    base = _config(args, settings).policy
    with open_input(args.input) as stream:
        pairs = read_scored_pairs(stream, settings_normalizer(settings), args.lang, args.a_column, args.b_column,
                                  args.score_column, args.duplicate_min, args.different_max)
    thresholds = SWEEP if args.sweep else (base.threshold,)
    results = [score_pairs(pairs, Policy(replace(base, threshold=t))) for t in thresholds]
    if args.json:
        json.dump([r.as_dict() for r in results] if args.sweep else results[0].as_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"{results[0].positives} duplicate pairs, {results[0].negatives} different pairs")
    print("threshold  precision  recall")
    for r in results:
        print(f"{r.threshold:9.2f}  {r.precision:9.3f}  {r.recall:6.3f}")
    return 0

"""`headline-dedup explain A B`: why two headlines are (not) the same story, every signal shown."""
from __future__ import annotations

import argparse

from headline_dedup.cli.offline import encoder_args, settings_encoders, settings_normalizer
from headline_dedup.clustering import Policy
from headline_dedup.pairs import judge_pair, pair_rarity
from headline_dedup.semantic import JudgeParams
from headline_dedup.settings import Settings
from headline_dedup.signatures import Signer, jaccard
from headline_dedup.verify import pair_score, text_ratio


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="why two headlines are (not) the same story")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--lang", default="fr")
    encoder_args(p)
    p.set_defaults(func=cmd_explain)


def cmd_explain(args, settings: Settings) -> int:
    config = settings.engine_config()
    normalizer = settings_normalizer(settings)
    na, nb = normalizer.normalize(args.a, args.lang), normalizer.normalize(args.b, args.lang)
    signer = Signer(config.signature)
    sa, sb = signer.sign([na.tokens, nb.tokens])
    # Rarity with only these two headlines seen: every token equally rare, as for a fresh stream.
    policy, rarity = Policy(config.policy), pair_rarity(na, nb)
    verdict = judge_pair(na, nb, policy, rarity)
    live_verdict = judge_pair(na, nb, policy, rarity, live=True)
    m = verdict.match or pair_score(nb.tokens, na.tokens, rarity, nb.kicker_tokens, na.kicker_tokens)
    b, r = config.signature.bands
    candidate = any(x == y for x, y in zip(signer.band_keys(sa), signer.band_keys(sb)))
    print(f"A normalised: {' '.join(na.tokens)}")
    print(f"B normalised: {' '.join(nb.tokens)}")
    print(f"estimated Jaccard (MinHash {config.signature.num_perm}): {jaccard(sa, sb):.3f}; "
          f"LSH candidate (b={b}, r={r}): {'yes' if candidate else 'no'}")
    print(f"shared tokens: {' '.join(m.shared) or '-'}")
    print(f"kickers: {' '.join(na.kicker_tokens) or '-'} / {' '.join(nb.kicker_tokens) or '-'}; "
          f"conflicts: {', '.join(m.conflicts) or 'none'}")
    print(f"verifier: score {m.score:.3f} (containment {m.containment:.3f}, coverage {m.coverage:.3f}); "
          f"text ratio {text_ratio(' '.join(na.tokens), ' '.join(nb.tokens)):.3f}")
    candidates, judge = settings_encoders(args, settings)
    p = JudgeParams()
    asked = True  # whether the judge would ask e5 about this pair: its cheap vectors close enough
    if candidates is not None:
        va, vb = candidates.encode([args.a, args.b])
        align = getattr(candidates, "alignment", None)
        cheap = float(va @ vb)
        asked = candidates is judge or cheap >= p.min_cheap_cosine
        print(f"meaning ({candidates.name}): cosine {cheap:.3f}"
              + (f", word alignment {align(candidates.words(args.a), candidates.words(args.b)):.3f}" if align else "")
              + ("" if judge is None or candidates is judge else
                 f"; the judge asks e5 at {p.min_cheap_cosine} or more: {'yes' if asked else 'no'}"))
    semantic = None
    if judge is not None:
        ja, jb = judge.encode([args.a, args.b])
        semantic = float(ja @ jb)
        print(f"semantic judge ({judge.name}): cosine {semantic:.3f} (bar {p.bar})")
    live, horizon = f"{config.policy.live_hours:g} h", f"{p.horizon_hours:g} h"
    comparable = min(len(set(na.tokens)), len(set(nb.tokens))) >= config.policy.min_tokens
    for when, v, judged in ((f"B within {live} of A (a live story)", live_verdict, True),
                            (f"B {live} to {horizon} after A", verdict, True),
                            (f"B more than {horizon} after A (beyond the judge's horizon)", verdict, False)):
        same, reason = v.same, v.reason
        if (not same and judged and asked and semantic is not None and comparable and p.is_open(m)
                and semantic >= p.bar):
            same, reason = True, f"word overlap {m.score:.3f} >= {p.grey_min}, e5 {semantic:.3f} >= bar"
        print(f"decision, {when}: {'same story' if same else 'different'} ({reason})")
    return 0

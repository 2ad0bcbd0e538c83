"""The bulk signer and the band keys give exactly what datasketch's own per-headline path gives (the bytes are
stored in Redis and compared across processes, so "close" is not enough)."""
import numpy as np
import xxhash
from datasketch import LeanMinHash, MinHash
from hypothesis import given, settings, strategies as st

from headline_dedup.signatures import SignatureParams, Signer, features, from_bytes, to_bytes

PARAMS = [SignatureParams(), SignatureParams(num_perm=64, seed=3, lsh_threshold=0.5)]
tokens = st.lists(st.text(min_size=1, max_size=12), max_size=12)


def reference(params: SignatureParams, toks) -> LeanMinHash:
    m = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=xxhash.xxh32_intdigest, scheme="affine32")
    m.update_batch(features(toks))
    return LeanMinHash(m)


def reference_band_keys(params: SignatureParams, sig: LeanMinHash) -> list[bytes]:
    b, r = params.bands
    raw = sig.hashvalues[:b * r].astype("<u4").tobytes()
    return [xxhash.xxh3_64_digest(raw[i * 4 * r:(i + 1) * 4 * r], seed=i) for i in range(b)]


@settings(max_examples=60, deadline=None)
@given(st.lists(tokens, max_size=20))
def test_bulk_signatures_equal_datasketch(batch):
    for params in PARAMS:
        signer = Signer(params)
        for toks, sig in zip(batch, signer.sign(batch), strict=True):
            want = reference(params, toks)
            assert sig == want and to_bytes(sig) == to_bytes(want)
            assert sig.hashvalues.dtype == want.hashvalues.dtype
            assert signer.band_keys(sig) == reference_band_keys(params, want)


def test_batches_larger_than_a_chunk_and_empty_lists():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(300)]
    batch = [tuple(rng.choice(words, size=int(rng.integers(0, 15)))) for _ in range(700)] + [(), ("seul",)]
    signer = Signer(SignatureParams())
    sigs = signer.sign(iter(batch))  # the engine hands a generator
    assert len(sigs) == len(batch)
    for toks, sig in zip(batch, sigs):
        assert sig == reference(signer.params, toks)
        assert from_bytes(to_bytes(sig)) == sig
    assert signer.sign([]) == []


def test_repeats_share_one_signature_and_the_cache_stays_bounded(monkeypatch):
    import headline_dedup.signatures as signatures

    monkeypatch.setattr(signatures, "SIGN_CACHE", 3)
    signer = Signer(SignatureParams())
    lists = [("a", "b"), ("c", "d"), ("a", "b"), ("e", "f"), ("g", "h"), ("a", "b"), ("c", "d")]
    first = signer.sign(lists)
    assert first[0] is first[2] is first[5] and first[1] is first[6]
    again = signer.sign(lists)
    for toks, a, b in zip(lists, first, again):
        assert a == b == reference(signer.params, toks)
    assert len(signer._cache) == 3

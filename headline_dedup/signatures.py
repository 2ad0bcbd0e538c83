"""MinHash signatures: the only module that imports datasketch.

Signatures are computed in bulk over a headline's features (its content tokens plus their adjacent pairs, the
feature set measured best on the dev set), with a fixed scheme and seed and a 32-bit xxhash as the token hash,
so that every process computes the same bytes. `SignatureParams.fingerprint` names everything that must agree
between the signatures in one index (normalisation version included); stores refuse a mismatch.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import xxhash
from datasketch import LeanMinHash, MinHash
from datasketch.lsh import _optimal_param

from headline_dedup.normalize import NORMALIZATION_VERSION

SCHEME = "affine32"
BAND_KEY = "xxh3-64"  # how a band's hash values become its 8-byte key (part of the fingerprint)


_xxh3_64 = xxhash.xxh3_64_digest


def _hash32(data: bytes) -> int:
    return xxhash.xxh32_intdigest(data)


@dataclass(frozen=True)
class SignatureParams:
    """Everything that decides a signature's bytes and the LSH banding."""

    num_perm: int = 128
    seed: int = 1
    lsh_threshold: float = 0.25
    normalization: str = NORMALIZATION_VERSION

    @property
    def bands(self) -> tuple[int, int]:
        """(b, r) as datasketch chooses them for the threshold (equal false positive/negative weights)."""
        return _bands(self.lsh_threshold, self.num_perm)

    @property
    def fingerprint(self) -> str:
        b, r = self.bands
        return (f"{self.normalization}:{SCHEME}:xxh32:seed={self.seed}:perm={self.num_perm}:b={b}:r={r}:"
                f"{BAND_KEY}")


_BANDS_CACHE: dict[tuple[float, int], tuple[int, int]] = {}


def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    key = (threshold, num_perm)
    if key not in _BANDS_CACHE:  # datasketch's search takes ~15 ms: do it once
        _BANDS_CACHE[key] = _optimal_param(threshold, num_perm, 0.5, 0.5)
    return _BANDS_CACHE[key]


def features(tokens: Sequence[str]) -> list[bytes]:
    """The set hashed into a signature: each token and each adjacent token pair."""
    out = {t.encode() for t in tokens}
    out.update(f"{a} {b}".encode() for a, b in zip(tokens, tokens[1:]))
    return list(out)


class Signer:
    """Computes LeanMinHash signatures for batches of token sequences."""

    def __init__(self, params: SignatureParams):
        self.params = params
        self._template = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=_hash32, scheme=SCHEME)

    def sign(self, token_lists: Iterable[Sequence[str]]) -> list[LeanMinHash]:
        """One signature per token list, in order (bulk: the permutations are set up once)."""
        out = []
        for tokens in token_lists:
            m = self._template.copy()
            m.update_batch(features(tokens))
            out.append(LeanMinHash(m))
        return out

    def band_keys(self, sig: LeanMinHash) -> list[bytes]:
        """The b band keys of a signature: 8 bytes each, the 64-bit xxh3 of the band's hash values seeded with
        the band's index (a third of the raw bands' size, which is what the Redis index stores per band). Two
        different bands share a key with probability 2^-64, which only makes a candidate, and candidates are
        verified."""
        b, r = self.params.bands
        raw = sig.hashvalues[:b * r].astype("<u4").tobytes()  # the scheme's values are 32-bit
        width = 4 * r
        return [_xxh3_64(raw[i * width:(i + 1) * width], seed=i) for i in range(b)]


def to_bytes(sig: LeanMinHash) -> bytes:
    """LeanMinHash serialisation (datasketch's own format, carries seed and scheme)."""
    buf = bytearray(sig.bytesize())
    sig.serialize(buf)
    return bytes(buf)


def from_bytes(data: bytes) -> LeanMinHash:
    return LeanMinHash.deserialize(data)


def jaccard(a: LeanMinHash, b: LeanMinHash) -> float:
    """Estimated Jaccard similarity of the two feature sets."""
    return float(np.count_nonzero(a.hashvalues == b.hashvalues)) / len(a.hashvalues)

"""MinHash signatures: the only module that imports datasketch.

Signatures are computed in bulk over a headline's features (its content tokens plus their adjacent pairs, the
feature set measured best on the dev set), with a fixed scheme and seed and a 32-bit xxhash as the token hash,
so that every process computes the same bytes. `SignatureParams.fingerprint` names everything that must agree
between the signatures in one index (normalisation version included); stores refuse a mismatch.
"""
from __future__ import annotations

import itertools
import threading
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


_MAX_HASH = np.uint32(0xFFFFFFFF)  # an empty feature set's values, as datasketch initialises them
BAND_FANOUT = 8  # a band key's newest this many headlines are its candidates (both band indexes keep more)
SIGN_CHUNK = 256  # headlines hashed in one numpy pass: (features x num_perm) uint32 stays a few MB
SIGN_CACHE = 16_384  # token lists whose signatures are kept (as many texts as the normaliser keeps)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, which the affine32 scheme applies to a token hash before permuting."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


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
        self._a, self._b = self._template.permutations
        b, r = params.bands
        self._banded = b * r
        self._band_slices = [slice(i * 4 * r, (i + 1) * 4 * r) for i in range(b)]  # the scheme's values are 32-bit
        self._band_seeds = list(range(b))
        self._cache: dict[tuple[str, ...], LeanMinHash] = {}  # oldest first
        self._lock = threading.Lock()  # the cache is shared by the threads of one process

    def sign(self, token_lists: Iterable[Sequence[str]]) -> list[LeanMinHash]:
        """One signature per token list, in order: the same values as datasketch's `MinHash.update_batch` over
        `features(tokens)`, computed for many lists at once (per-headline MinHash objects cost more than the
        hashing itself). Feeds repeat themselves (re-sends, re-scrapes): the signatures of the last
        `SIGN_CACHE` token lists are kept, and a repeat gets the same (immutable) object."""
        keys = [tuple(tokens) for tokens in token_lists]
        out: list[LeanMinHash | None] = [None] * len(keys)
        todo: dict[tuple[str, ...], list[int]] = {}
        with self._lock:
            for i, key in enumerate(keys):
                sig = self._cache.pop(key, None)
                if sig is None:
                    todo.setdefault(key, []).append(i)
                else:
                    out[i] = self._cache[key] = sig  # back to the young end
        new = list(todo)
        sigs = []
        for start in range(0, len(new), SIGN_CHUNK):
            values = self._hashvalues([features(tokens) for tokens in new[start:start + SIGN_CHUNK]])
            sigs.extend(self._lean(row.copy()) for row in values)  # a copy: a cached row must not pin its chunk
        with self._lock:
            for key, sig in zip(new, sigs):
                for i in todo[key]:
                    out[i] = sig
                self._cache[key] = sig
            while len(self._cache) > SIGN_CACHE:
                del self._cache[next(iter(self._cache))]
        return out  # type: ignore[return-value]

    def _hashvalues(self, feature_sets: Sequence[Sequence[bytes]]) -> np.ndarray:
        """One row of min-hash values per feature set: min over its features of `a * fmix32(xxh32(f)) + b`."""
        values = np.full((len(feature_sets), len(self._a)), _MAX_HASH, dtype=np.uint32)
        filled = [i for i, f in enumerate(feature_sets) if f]
        if not filled:
            return values
        sizes = np.fromiter((len(feature_sets[i]) for i in filled), dtype=np.int64, count=len(filled))
        count = int(sizes.sum())
        hashed = np.fromiter(map(xxhash.xxh32_intdigest, itertools.chain.from_iterable(
            feature_sets[i] for i in filled)), dtype=np.uint32, count=count)
        permuted = _fmix32(hashed)[:, None] * self._a + self._b  # uint32: wraps modulo 2^32, as datasketch's
        starts = np.zeros(len(filled), dtype=np.int64)
        np.cumsum(sizes[:-1], out=starts[1:])
        values[filled] = np.minimum.reduceat(permuted, starts, axis=0)
        return values

    def _lean(self, hashvalues: np.ndarray) -> LeanMinHash:
        lean = object.__new__(LeanMinHash)  # the values are the scheme's already: skip re-validating them
        lean.seed, lean.scheme, lean.hashvalues = self.params.seed, SCHEME, hashvalues
        return lean

    def band_keys(self, sig: LeanMinHash) -> list[bytes]:
        """The b band keys of a signature: 8 bytes each, the 64-bit xxh3 of the band's hash values seeded with
        the band's index (a third of the raw bands' size, which is what the Redis index stores per band). Two
        different bands share a key with probability 2^-64, which only makes a candidate, and candidates are
        verified."""
        return list(self.band_keys_of(self.banded(sig)))

    def banded(self, sig: LeanMinHash) -> bytes:
        """The bytes the band keys hash: the first b * r values, little-endian (two signatures with the same
        bytes have the same band keys)."""
        return sig.hashvalues[:self._banded].astype("<u4", copy=False).tobytes()

    def band_keys_of(self, banded: bytes) -> tuple[bytes, ...]:
        """`band_keys` from `banded`'s bytes."""
        return tuple(map(_xxh3_64, map(banded.__getitem__, self._band_slices), self._band_seeds))


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

"""The semantic judge's vectors in Redis: each headline is embedded once, by whichever worker first needs it, and
kept as float16 (768 bytes for e5-small) for the window, under a key that names the encoder (two encoders never
mix; switching encoders only means embedding again)."""
from __future__ import annotations

import hashlib
from typing import Mapping, Sequence

import numpy as np
import redis

from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import as_text


class RedisVectors:
    """A `VectorSource` (see `semantic`) on Redis."""

    def __init__(self, client: redis.Redis, keys: Keys, encoder, ttl_seconds: float):
        self.client, self.keys, self.encoder = client, keys, encoder
        self.ttl = max(1, int(ttl_seconds))
        self.tag = hashlib.sha1(encoder.name.encode()).hexdigest()[:10]
        self._texts: dict[str, str] = {}
        self.embedded = 0  # headlines this process embedded

    def remember(self, texts: Mapping[str, str]) -> None:
        self._texts = dict(texts)  # the current batch's: earlier headlines' texts are read from their records

    def vectors(self, ids: Sequence[str], embed: bool = True) -> dict[str, np.ndarray]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        stored = self.client.mget([self.keys.semantic_vector(self.tag, i) for i in ids])
        out = {i: _decode(raw) for i, raw in zip(ids, stored) if raw}
        missing = [i for i in ids if i not in out]
        if missing and embed:
            out.update(self._embed(missing))
        return out

    def _embed(self, ids: list[str]) -> dict[str, np.ndarray]:
        texts = {i: self._texts[i] for i in ids if i in self._texts}
        unknown = [i for i in ids if i not in texts]
        if unknown:
            pipe = self.client.pipeline(transaction=False)
            for i in unknown:
                pipe.hget(self.keys.headline(i), "text")
            texts.update({i: as_text(t) for i, t in zip(unknown, pipe.execute()) if t})
        if not texts:
            return {}
        order = list(texts)
        vectors = self.encoder.encode([texts[i] for i in order])
        pipe = self.client.pipeline(transaction=False)
        for i, v in zip(order, vectors):
            pipe.set(self.keys.semantic_vector(self.tag, i), np.asarray(v, dtype="<f2").tobytes(), ex=self.ttl)
        pipe.execute()
        self.embedded += len(order)
        return dict(zip(order, vectors))


def _decode(raw: bytes) -> np.ndarray:
    v = np.frombuffer(raw, dtype="<f2").astype(np.float32)
    norm = np.linalg.norm(v)
    return v / norm if norm else v

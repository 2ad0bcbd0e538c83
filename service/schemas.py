"""Request models: the pydantic models that validate every request body."""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from headline_dedup.errors import InvalidRequest
from headline_dedup.feeds import parse_time
from headline_dedup.normalize import MAX_HEADLINE_CHARS


# Not blank, no NUL. Checked here with Python's re and by clients with the OpenAPI document's (ECMA) dialect: their
# `\s` differ (Python's has \x1c-\x1f and \x85, ECMA's has \ufeff), so the class names those too, and a text
# both dialects accept is one this API accepts (schemathesis sent "\x1c", schema-valid and refused here).
READABLE = r"^[^\x00]*[^\s\x00\x1c-\x1f\x85\ufeff][^\x00]*$"


def _readable(v: str) -> str:
    if not re.match(READABLE, v):
        raise ValueError("text is blank or contains a NUL character")
    return v


HeadlineText = Annotated[str, Field(min_length=1, max_length=MAX_HEADLINE_CHARS,
                                    json_schema_extra={"pattern": READABLE}), AfterValidator(_readable)]


def _time(v: str) -> str:
    if not v.strip():  # parse_time reads a blank TSV cell as "no time"; here that is null or no field
        raise ValueError("blank time: send ISO 8601 or RFC 2822, or null")
    try:
        parse_time(v)  # the one parser, as the ingest and the offline --time-column read it
    except InvalidRequest as exc:
        raise ValueError(f"{exc.message}: use ISO 8601 or RFC 2822") from None
    return v


# Documented as date-time (what generated clients send); RFC 2822 is accepted too, as the description says.
PublicationTime = Annotated[str, Field(max_length=64, json_schema_extra={"format": "date-time"}),
                            AfterValidator(_time)]


class HeadlineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, min_length=1, max_length=200, description="client id (idempotency key)")
    text: HeadlineText
    source: str | None = Field(None, max_length=200)
    url: str | None = Field(None, max_length=2000)
    lang: Literal["fr", "en"] = "fr"
    published_at: PublicationTime | None = Field(None, description=(
        "ISO 8601 or RFC 2822 (no zone: UTC); anything else is a 422. When plausible (at most 5 minutes after "
        "arrival, within retention) it is the headline's event time for the candidate window and live stories; "
        "else arrival time is (see `event_time_source`)"))
    body: str | None = Field(None, max_length=100_000)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    headlines: list[HeadlineIn] = Field(min_length=1)


class MatchIn(BaseModel):
    """A headline to try against the clusters without storing it."""

    model_config = ConfigDict(extra="forbid")

    text: HeadlineText
    lang: Literal["fr", "en"] = "fr"


# Responses (documented in /openapi.json).

class HeadlineOut(BaseModel):
    id: str
    client_id: str | None = None
    text: str | None = None
    source: str | None = None
    url: str | None = None
    lang: str = "fr"
    status: Literal["queued", "clustered", "rejected", "dead"] | None = None
    cluster_id: str | None = None
    reason: str | None = Field(None, description="new | exact | lead | similar | live | core | semantic | "
                                                  "too_short | empty | <error code>")
    score: float | None = None
    received_at: str | None = Field(None, description="ISO 8601 UTC")
    event_at: str | None = Field(None, description="the headline's event time (ISO 8601 UTC): its "
                                                   "published_at when plausible, else received_at")
    event_time_source: Literal["published_at", "received"] | None = Field(
        None, description="which time event_at is (null for headlines stored before it was recorded)")
    request_id: str | None = Field(None, description="X-Request-ID of the request that posted it (logs carry it)")


class AcceptedOut(HeadlineOut):
    duplicate_request: bool = Field(description="true when an earlier request already stored this headline")
    status_url: str


class IngestOut(BaseModel):
    headlines: list[AcceptedOut] = Field(description="one per posted headline, in input order")


class MemberOut(HeadlineOut):
    pass


class ClusterOut(BaseModel):
    id: str
    size: int
    representative: HeadlineOut | None
    sources: list[str] = Field(description="the distinct sources of its members (empty when none was given)")
    first_seen: str | None = Field(description="ISO 8601 UTC")
    last_seen: str | None = Field(description="ISO 8601 UTC: its last change")
    members: list[MemberOut] | None = None
    merged: list[str] | None = Field(None, description="when the id asked for was merged away: the merged ids "
                                                       "followed to reach this cluster")
    merged_into: str | None = Field(None, description="when the id asked for was merged away: this cluster's id")


class ClusterPage(BaseModel):
    clusters: list[ClusterOut]
    next_cursor: int | None


class ClusterQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt filter is a 422, not a silently unfiltered list

    limit: int = Field(50, ge=1, le=500)
    cursor: int = Field(0, ge=0, le=10**9)
    min_size: int = Field(1, ge=1, le=10**9)
    updated_since: PublicationTime | None = Field(None, description="ISO 8601 (or RFC 2822): only clusters "
                                                                     "changed since")
    source: str | None = Field(None, description="only clusters with a member from this source")
    text: str | None = Field(None, description="case- and accent-insensitive substring of the representative")
    members: bool = False


class MatchCandidate(BaseModel):
    cluster_id: str
    score: float


class MatchOut(BaseModel):
    would_join: str | None = Field(description="the cluster the headline would join; null: it would open one")
    reason: str
    score: float = Field(description="word-overlap score against the cluster")
    semantic: float | None = Field(None, description="the semantic judge's cosine when it made the call (reason "
                                                     "`semantic`; JUDGE=e5), else null")
    tokens: list[str]
    runner_up: MatchCandidate | None = None
    cluster: ClusterOut | None = None


class HealthOut(BaseModel):
    status: Literal["ok", "failing"]
    reason: str | None = None


class ReadyOut(BaseModel):
    status: Literal["ready", "not_ready"]
    redis: Literal["ok"]
    workers: int = Field(description="clusterers whose last successful step is within the heartbeat TTL")
    dispatchers: int = Field(description="webhook dispatchers likewise")
    backlog: int = Field(description="headlines waiting in the ingest stream")
    oldest_queued_seconds: float = Field(description="age of the oldest headline waiting")


class StatsOut(BaseModel):
    headlines: int
    clusters: int
    backlog: int
    pending: int
    dead_letters: int
    events: int


class DeadLetterOut(BaseModel):
    entry_id: str
    id: str | None = None
    text: str | None = None
    error: str | None = None


class DeadLetterPage(BaseModel):
    dead_letters: list[DeadLetterOut]
    next_cursor: str | None


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


class EventQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt filter is a 422, not a silently unfiltered stream

    since: str | None = Field(None, description="resume after this event id (the Last-Event-ID header wins)")
    lastEventId: str | None = Field(None, description="the Last-Event-ID header's value, as EventSource "
                                                      "polyfills send it on reconnecting; wins over `since`")
    types: str | None = Field(None, description="comma-separated event types")
    cluster: str | None = Field(None, description="only this cluster's events")
    min_size: int = Field(0, ge=0, le=10**9, description="only events of clusters at least this large")
    source: str | None = Field(None, description="only events whose headline comes from this source")


# Event payloads (the `data:` of SSE events and the body of webhook deliveries).

class EventHeadline(BaseModel):
    id: str
    client_id: str | None = Field(None, description="the id its client posted (GET /v1/headlines/by-client-id/...)")
    text: str | None
    source: str | None
    score: float
    reason: str


class ClusterCreated(BaseModel):
    cluster_id: str
    size: int
    member: EventHeadline


class ClusterUpdated(BaseModel):
    cluster_id: str
    size: int
    member: EventHeadline = Field(description="the new member")


class RepresentativeChanged(BaseModel):
    cluster_id: str
    size: int
    representative: EventHeadline


class ClusterExpired(BaseModel):
    cluster_id: str


class ClusterMembersExpired(BaseModel):
    cluster_id: str
    size: int = Field(description="the cluster's size after they left")
    members: list[str] = Field(description="the ids of the headlines that left: their records expire (retention), "
                                           "while the cluster lives on")


class HeadlineRejected(BaseModel):
    headline: EventHeadline


class Correction(BaseModel):
    by: str | None = Field(description="the name of the API key that made it (null without authentication)")
    at: str = Field(description="when, ISO 8601 UTC")
    size: int = Field(description="the size of the cluster the headlines went to")


class ClusterMerged(Correction):
    cluster_id: str = Field(description="the cluster that took the members")
    merged: str = Field(description="the cluster merged into it (its id now answers with `merged`)")


class ClusterSplit(Correction):
    cluster_id: str = Field(description="the cluster split")
    new_cluster_id: str
    headlines: list[str] = Field(description="the headlines that left for the new cluster")
    from_size: int = Field(description="the size of the split cluster afterwards")


class HeadlineMoved(Correction):
    headline_id: str
    client_id: str | None
    cluster_id: str = Field(description="where it went (a new cluster when it was moved out on its own)")
    from_: str = Field(alias="from", description="the cluster it left")
    from_size: int = Field(description="the size of the cluster it left (0: emptied, its id now points here)")


class PolicyValues(BaseModel):
    threshold: float = Field(description="the join bar at any age")
    live_threshold: float = Field(description="the join bar while the story is live")
    live_hours: float = Field(description="how long a story stays live after its newest member")
    core_threshold: float = Field(description="the bar for a headline holding a big story's core words")


class PolicyChanged(BaseModel):
    by: str | None
    at: str
    changed: dict = Field(description="the values this change set")
    policy: PolicyValues = Field(description="the policy in force after it")


EVENT_MODELS = {"cluster.created": ClusterCreated, "cluster.updated": ClusterUpdated,
                "cluster.representative_changed": RepresentativeChanged, "cluster.expired": ClusterExpired,
                "cluster.members_expired": ClusterMembersExpired, "headline.rejected": HeadlineRejected,
                "cluster.merged": ClusterMerged, "cluster.split": ClusterSplit, "headline.moved": HeadlineMoved,
                "policy.changed": PolicyChanged}


# Corrections (editors).

class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into: str = Field(min_length=1, max_length=200, description="the cluster that takes this one's members")


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    headlines: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=1000, description="members that leave for a new cluster")


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cluster: str | None = Field(min_length=1, max_length=200, description="the destination cluster; null: a new "
                                                                           "cluster of its own")


class CorrectionEntry(BaseModel):
    id: str = Field(description="its id in the corrections log (the cursor)")
    type: Literal["cluster.merged", "cluster.split", "headline.moved", "policy.changed"]
    by: str | None
    at: str
    cluster_id: str | None = None


class PolicyIn(BaseModel):
    """Some of the thresholds (at least one; the others keep their values); they apply from each worker's next
    batch."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    # Numbers only, never null or a boolean: a default of None means "not sent".
    threshold: float = Field(None, ge=0.05, le=1.0, allow_inf_nan=False, strict=True)
    live_threshold: float = Field(None, ge=0.05, le=1.0, allow_inf_nan=False, strict=True)
    live_hours: float = Field(None, ge=0.0, le=720.0, allow_inf_nan=False, strict=True)
    core_threshold: float = Field(None, ge=0.05, le=1.0, allow_inf_nan=False, strict=True)


class PolicyOut(BaseModel):
    policy: PolicyValues = Field(description="in force")
    configured: PolicyValues = Field(description="from the settings, before any change made here")


class CorrectionOut(BaseModel):
    correction: dict = Field(description="what was done: the payload of its event")
    cluster: ClusterOut = Field(description="the cluster the headlines went to")
    left: ClusterOut | None = Field(None, description="the cluster they left, when it still exists")


class CorrectionPage(BaseModel):
    corrections: list[CorrectionEntry]
    next_cursor: str | None


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://[A-Za-z0-9._~%-]+(:(6553[0-5]|655[0-2][0-9]"
                     r"|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0))?(/\S*)?$",
                     description="http(s) URL with a host name or IPv4 address (no IPv6 literal); "
                                 "loopback and private addresses are refused unless allowed")
    types: list[Literal[tuple(EVENT_MODELS)]] = Field(  # editors' corrections and policy changes too
        default_factory=list, description="event types to deliver (empty: all)")

    @field_validator("url", mode="wrap")
    @classmethod
    def _url(cls, value, handler):
        """The pattern's own error quotes the regular expression: say it in words."""
        try:
            return handler(value)
        except ValidationError as exc:
            if any(e["type"] == "string_pattern_mismatch" for e in exc.errors()):
                raise ValueError("must be an http:// or https:// URL with a host name or an IPv4 address, an "
                                 "optional port (0-65535) and no spaces") from None
            raise


class WebhookOut(BaseModel):
    id: str
    url: str
    types: list[str]
    active: bool
    disabled_reason: str | None
    failures: int = Field(description="consecutive failed attempts")
    created_at: str = Field(description="ISO 8601 UTC")


class WebhookCreated(WebhookOut):
    secret: str = Field(description="whsec_... signing secret: shown only in this response")


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class DeliveryOut(BaseModel):
    event_id: str
    type: str
    attempt: int
    status: int | None
    error: str | None
    ok: bool
    at: str = Field(description="ISO 8601 UTC")
    ms: float


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]

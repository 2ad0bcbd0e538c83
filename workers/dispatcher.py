"""The webhook dispatcher: reads the events stream through its own consumer group and delivers each event to
every active webhook subscribed to its type, signed (Standard Webhooks), retried with exponential backoff.

At least once: an event is acknowledged once each delivery has succeeded or been scheduled for retry, so a
crash before that delivers it again (receivers deduplicate by `webhook-id`, the event id). A 410 disables the
webhook at once; `webhook_disable_after` consecutive failures disable it too.

A retry is leased, not removed, when a dispatcher takes it: its due time moves to the end of the lease, and
only the attempt's outcome removes it (or replaces it with the next attempt), in one step. A dispatcher that
dies mid-delivery leaves it to be retaken when the lease ends.

Each attempt resolves the webhook's host once, checks every address, and connects to the first one checked,
never resolving the name again (a second answer could point inside: DNS rebinding).
"""
from __future__ import annotations

import json
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

import certifi
import redis
import urllib3

from headline_dedup import __version__
from headline_dedup.errors import InvalidRequest, NotFound
from headline_dedup.logs import get_logger
from headline_dedup.settings import Settings
from headline_dedup.storage.events import Event, parse_entry
from headline_dedup.storage.consumers import prune_consumers
from headline_dedup.storage.keys import DISPATCH_GROUP, Keys
from headline_dedup.storage.webhooks import Destination, WebhookStore, resolve_destination
from headline_dedup.times import iso_time
from headline_dedup.webhook_signature import sign
from headline_dedup.workers.roles import Role

log = get_logger("headline_dedup.dispatcher")
USER_AGENT = f"headline-dedup/{__version__} (webhooks)"  # what a receiver sees in its logs
WORKERS = 16  # concurrent deliveries; retries are claimed this many at a time, so each starts when claimed
RETRY_BATCHES = 6  # retry claims per step, so that new events keep their turn
# KEYS: retries. ARGV: now, lease end, count. Takes due jobs by moving their due time to the lease's end.
CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, job in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', ARGV[2], job) end
return due
"""
# KEYS: retries. ARGV: claimed job and its lease end ('' for a first attempt), next job ('' for none), its due
# time. A job whose lease ran out may have been retaken: only its current holder settles it.
SETTLE = """
if ARGV[1] ~= '' then
  local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
  redis.call('ZREM', KEYS[1], ARGV[1])
end
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3]) end
return 1
"""


class PinnedSender:
    """POSTs to the first checked address of a `Destination`, never resolving its host: the Host header and,
    for https, the TLS server name and the certificate check use the URL's host. Certificates are checked
    against REQUESTS_CA_BUNDLE when set (as requests did), else certifi's bundle."""

    def __init__(self):
        ca_certs = os.environ.get("REQUESTS_CA_BUNDLE") or certifi.where()
        self.pools = urllib3.PoolManager(num_pools=64, maxsize=4, cert_reqs="CERT_REQUIRED", ca_certs=ca_certs)

    def post(self, dest: Destination, body: bytes, headers: dict, timeout: float) -> int:
        tls = {"server_hostname": dest.host, "assert_hostname": dest.host} if dest.scheme == "https" else None
        pool = self.pools.connection_from_host(dest.addresses[0], dest.port, dest.scheme, pool_kwargs=tls)
        headers = {**headers, "host": dest.host_header}
        if dest.userinfo:
            user, _, password = dest.userinfo.partition(":")
            headers.update(urllib3.make_headers(basic_auth=f"{unquote(user)}:{unquote(password)}"))
        resp = pool.urlopen("POST", dest.target, body=body, headers=headers, retries=False, redirect=False,
                            timeout=urllib3.Timeout(connect=timeout, read=timeout))
        return resp.status


class Dispatcher(Role):
    def __init__(self, client: redis.Redis, settings: Settings, name: str | None = None,
                 retry_lease_seconds: float | None = None):
        """`retry_lease_seconds`: how long a retry it takes is held before another dispatcher may retake it
        (default: 60 s, or 4 delivery timeouts if longer: an attempt's connect and read take up to 2)."""
        self.client, self.settings = client, settings
        self.retry_lease = retry_lease_seconds or max(60.0, 4 * settings.webhook_timeout_seconds)
        self.keys = Keys(settings.key_prefix, settings.namespace)
        self.hooks = WebhookStore(client, self.keys)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-dispatch"
        super().__init__()
        self.sender = PinnedSender()
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="webhook")
        self._claim_script, self._settle_script = client.register_script(CLAIM), client.register_script(SETTLE)
        try:  # from now on: events before the first dispatcher ever started are history
            client.xgroup_create(self.keys.events, DISPATCH_GROUP, id="$", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        prune_consumers(client, self.keys.events, DISPATCH_GROUP, keep=self.name)

    def step(self) -> None:
        """Due redeliveries, then one batch of events (reclaimed from a dead dispatcher, or new)."""
        self.redeliver_due()
        resp = self.client.xautoclaim(self.keys.events, DISPATCH_GROUP, self.name, self.settings.claim_idle_ms,
                                      "0-0", count=100)[1]
        if not resp:
            got = self.client.xreadgroup(DISPATCH_GROUP, self.name, {self.keys.events: ">"}, count=100,
                                         block=min(self.settings.worker_block_ms, 500))
            resp = got[0][1] if got else []
        events = [parse_entry(e) for e in resp if e[1]]
        if events:
            self.dispatch(events)

    def dispatch(self, events: list[Event]) -> None:
        """First delivery of each event to each subscribed webhook, then acknowledge the events."""
        hooks = [h for h in self.hooks.all() if h["active"]]
        jobs = [(h, e, 1) for e in events for h in hooks if not h["types"] or e.type in h["types"]]
        list(self.pool.map(lambda job: self._attempt(*job), jobs))
        self.client.xack(self.keys.events, DISPATCH_GROUP, *[e.id for e in events])

    def redeliver_due(self) -> None:
        """Attempt the retries that are due, each leased while it is attempted."""
        for _ in range(RETRY_BATCHES):
            if self._redeliver_batch() < WORKERS:
                return

    def _redeliver_batch(self) -> int:
        now = time.time()
        lease_end = now + self.retry_lease
        claimed = self._claim_script(keys=[self.keys.webhook_retries], args=[repr(now), repr(lease_end), WORKERS])
        jobs = []
        for raw in claimed:
            job, claim = json.loads(raw), (raw, lease_end)
            found = self.client.xrange(self.keys.events, min=job["event"], max=job["event"])
            try:
                hook = self.hooks.get(job["webhook"])
            except NotFound:
                hook = None
            if found and hook and hook["active"]:
                jobs.append((hook, parse_entry(found[0]), job["attempt"], claim))
            else:  # its event left retention, or its webhook was deleted or disabled meanwhile
                self._settle(claim, None, 0)
        list(self.pool.map(lambda job: self._attempt(*job), jobs))
        return len(claimed)

    def _settle(self, claim: tuple | None, next_job: str | None, due: float) -> None:
        """Remove the claimed retry (if any) and schedule `next_job` (if any), in one step."""
        raw, lease_end = claim or ("", "")
        if raw or next_job:
            self._settle_script(keys=[self.keys.webhook_retries],
                                args=[raw, repr(lease_end) if raw else "", next_job or "", repr(due)])

    def _attempt(self, hook: dict, event: Event, attempt: int, claim: tuple | None = None) -> None:
        """One delivery; `claim` is the leased retry it settles (None for a first attempt)."""
        s = self.settings
        body = json.dumps({"type": event.type, "timestamp": iso_time(time.time()),
                           "data": event.data}, ensure_ascii=False).encode()
        ts = int(time.time())
        headers = {"content-type": "application/json", "user-agent": USER_AGENT, "webhook-id": event.id,
                   "webhook-timestamp": str(ts), "webhook-signature": sign(hook["secret"], event.id, ts, body)}
        status, error = None, None
        started = time.monotonic()
        try:
            dest = resolve_destination(hook["url"], s.webhook_allow_private)
            status = self.sender.post(dest, body, headers, s.webhook_timeout_seconds)
        except InvalidRequest as exc:
            error = exc.message
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        ok = status is not None and 200 <= status < 300
        entry = {"event_id": event.id, "type": event.type, "attempt": attempt, "status": status, "error": error,
                 "ok": ok, "at": time.time(), "ms": round((time.monotonic() - started) * 1000, 1)}
        gone = "the receiver answered 410 Gone" if status == 410 else None
        updated = self.hooks.record(hook["id"], entry, ok, s.webhook_disable_after, gone)
        if not ok:
            log.warning("webhook delivery failed", webhook=hook["id"], event_id=event.id, attempt=attempt,
                        status=status, error=error)
        if updated is not None and not updated["active"]:
            log.warning("webhook disabled", webhook=hook["id"], reason=gone or "too many consecutive failures")
        if ok or gone or updated is None or not updated["active"]:
            return self._settle(claim, None, 0)
        if attempt >= s.webhook_max_attempts:
            log.warning("webhook event given up", webhook=hook["id"], event_id=event.id, attempts=attempt)
            return self._settle(claim, None, 0)
        delay = s.webhook_backoff_seconds * 2 ** (attempt - 1)
        job = json.dumps({"webhook": hook["id"], "event": event.id, "attempt": attempt + 1})
        self._settle(claim, job, time.time() + delay)

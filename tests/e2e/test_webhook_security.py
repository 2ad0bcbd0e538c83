"""The webhook SSRF guard against a rebinding resolver: an attempt resolves the host once and connects to the
address it checked. Only loopback is ever reached: 127.0.0.2 plays the public address (the public-address
check is patched to say so) and 127.0.0.1 the internal service the rebinding aims at."""
import errno
import socket
import ssl
import subprocess
import threading

import pytest

from headline_dedup.settings import Settings
from headline_dedup.storage import webhooks
from headline_dedup.storage.keys import Keys
from tests.e2e.test_webhooks import Receiver
from headline_dedup.workers.dispatcher import Dispatcher

PUBLIC, INTERNAL = "127.0.0.2", "127.0.0.1"
REAL_GETADDRINFO = socket.getaddrinfo


class RebindingResolver:
    """`socket.getaddrinfo` answering each name of `answers` with its addresses in turn (the last one from then
    on); other names resolve for real and must be loopback, so that nothing can leave the machine."""

    def __init__(self, answers: dict[str, list[str]]):
        self.answers, self.lookups, self.lock = answers, {name: 0 for name in answers}, threading.Lock()

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            infos = REAL_GETADDRINFO(host, port, family, type, proto, flags)
            assert all(info[4][0] in (INTERNAL, PUBLIC, "::1") for info in infos), infos
            return infos
        with self.lock:
            queue = self.answers[name]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            self.lookups[name] += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 0)))]


@pytest.fixture
def loopback_is_public(monkeypatch):
    """127.0.0.2 passes the public-address check (it is the stand-in for a public address)."""
    real = webhooks.is_public_address
    monkeypatch.setattr(webhooks, "is_public_address", lambda ip: str(ip) == PUBLIC or real(ip))


def _receivers(tls=None):
    """A receiver on PUBLIC and one on INTERNAL, on the same port (the URL names one)."""
    for _ in range(20):
        public = Receiver(host=PUBLIC, tls=tls)
        try:
            return public, Receiver(host=INTERNAL, port=public.port, tls=tls)
        except OSError as exc:
            public.close()
            if exc.errno != errno.EADDRINUSE:
                raise
    raise AssertionError("no port free on both loopback addresses")


def _deliver_one(client, dispatcher):
    """One new event, read and attempted by `dispatcher`; returns its id."""
    event_id = client.xadd(Keys().events, {"type": "cluster.created", "data": "{}"}).decode()
    dispatcher.step()
    return event_id


def test_a_rebinding_name_reaches_only_the_address_that_was_checked(redis_client, monkeypatch, loopback_is_public):
    client, settings = redis_client, Settings()
    public, internal = _receivers()
    dispatcher = Dispatcher(client, settings, name="d1")
    hooks = webhooks.WebhookStore(client, Keys())
    hook = hooks.create(f"http://hooks.example:{public.port}/hook", [])
    # answers a public address to the check, then the internal one to anything resolving it again
    resolver = RebindingResolver({"hooks.example": [PUBLIC, INTERNAL]})
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    event_id = _deliver_one(client, dispatcher)
    assert internal.calls == []
    [(headers, _, _)] = public.calls
    headers = {k.lower(): v for k, v in headers.items()}
    assert headers["host"] == f"hooks.example:{public.port}" and headers["webhook-id"] == event_id
    assert resolver.lookups["hooks.example"] == 1
    [entry] = hooks.deliveries(hook["id"])
    assert entry["ok"] and entry["status"] == 200
    # the other way round: the first (and only) answer is the internal address, so nothing is sent
    resolver = RebindingResolver({"hooks.example": [INTERNAL, PUBLIC]})
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    _deliver_one(client, dispatcher)
    assert internal.calls == [] and len(public.calls) == 1
    latest = hooks.deliveries(hook["id"])[0]
    assert latest["status"] is None and "non-public address (127.0.0.1)" in latest["error"]
    assert resolver.lookups["hooks.example"] == 1
    public.close(), internal.close()


def _certificate(tmp_path, name: str) -> str:
    """A self-signed certificate (and its key, in the same file) for `name`."""
    path = tmp_path / f"{name}.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                    "-keyout", str(path), "-out", str(path)], check=True, capture_output=True)
    return str(path)


def test_https_pins_the_address_and_verifies_the_certificate_for_the_host(redis_client, monkeypatch, tmp_path,
                                                                        loopback_is_public):
    client = redis_client
    pem = _certificate(tmp_path, "hooks.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pem)  # the receivers' certificate is the one trusted
    server_names = []
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(pem)
    tls.sni_callback = lambda sock, name, ctx: server_names.append(name)
    public, internal = _receivers(tls)
    dispatcher = Dispatcher(client, Settings(), name="d1")
    hooks = webhooks.WebhookStore(client, Keys())
    hook = hooks.create(f"https://hooks.example:{public.port}/hook", [])
    impostor = hooks.create(f"https://other.example:{public.port}/hook", [])  # served a hooks.example cert
    monkeypatch.setattr(socket, "getaddrinfo", RebindingResolver({"hooks.example": [PUBLIC, INTERNAL],
                                                                  "other.example": [PUBLIC, INTERNAL]}))
    _deliver_one(client, dispatcher)
    assert internal.calls == [] and len(public.calls) == 1
    assert {k.lower(): v for k, v in public.calls[0][0].items()}["host"] == f"hooks.example:{public.port}"
    assert sorted(server_names) == ["hooks.example", "other.example"]
    assert hooks.deliveries(hook["id"])[0]["ok"]
    refused = hooks.deliveries(impostor["id"])[0]
    assert not refused["ok"] and refused["error"].startswith("SSLError: hostname 'other.example' doesn't match")
    public.close(), internal.close()

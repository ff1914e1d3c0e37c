"""The HTTP SMS-gateway driver against a tiny local gateway that checks the signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hotline.notify.drivers import GatewayError, HttpSmsDriver
from hotline.notify.models import OutboxMessage

SECRET = "s3cr3t"


class Gateway(BaseHTTPRequestHandler):
    received: list[dict] = []
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        expected = hmac.new(SECRET.encode(), f"{self.headers['X-Hotline-Timestamp']}\n{body}".encode(),
                            hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, self.headers["X-Hotline-Signature"]) and \
            self.headers["X-Hotline-Key"] == "hotline-1"
        status = (self.status if ok else 401)
        if ok:
            self.received.append(json.loads(body))
        payload = b'{"ok": true}' if status == 200 else ("网关内部错误 " * 50).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.received = []
    Gateway.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms", Gateway
    server.shutdown()
    server.server_close()


def _message() -> OutboxMessage:
    return OutboxMessage(id=1, key="t1:receipt", channel="sms", recipient="+8613803590001",
                         template_code="caller.receipt", subject="诉求已受理", body="【12345】您反映的问题已受理")


def test_a_signed_message_reaches_the_gateway_with_its_idempotency_key(gateway):
    url, gw = gateway
    HttpSmsDriver(url, "hotline-1", SECRET, timeout=5).send(_message())
    assert gw.received == [{"to": "+8613803590001", "text": "【12345】您反映的问题已受理",
                            "idempotency_key": "t1:receipt"}]


def test_a_wrong_secret_is_refused(gateway):
    url, gw = gateway
    with pytest.raises(GatewayError, match="HTTP 401"):
        HttpSmsDriver(url, "hotline-1", "wrong", timeout=5).send(_message())
    assert gw.received == []


def test_a_server_error_is_a_failure_with_the_status_and_the_start_of_the_body(gateway):
    url, gw = gateway
    gw.status = 500
    with pytest.raises(GatewayError, match="HTTP 500: 网关内部错误") as err:
        HttpSmsDriver(url, "hotline-1", SECRET, timeout=5).send(_message())
    assert len(str(err.value)) < 300


def test_an_unreachable_gateway_is_a_failure():
    with pytest.raises(GatewayError, match="unreachable"):
        HttpSmsDriver("http://127.0.0.1:9/sms", "k", SECRET, timeout=2).send(_message())

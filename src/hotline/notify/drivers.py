"""Channel drivers for SMS: a file/log driver (the default) and a signed HTTP SMS-gateway driver.

A driver's ``send`` returns on success and raises on any failure; ``delivery`` does the retrying.
Inbox messages need no driver: delivering one writes an ``InboxItem`` row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from hotline.kit import clock
from hotline.notify.models import OutboxMessage


class Driver(Protocol):
    def send(self, message: OutboxMessage) -> None:
        """Hand one message to the channel; raise on failure."""


class FileDriver:
    """Append one JSON line per message to a file (``HOTLINE_DATA_DIR/outbox.log`` by default)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, message: OutboxMessage) -> None:
        line = json.dumps({
            "at": clock.now().isoformat(), "id": message.id, "key": message.key, "channel": str(message.channel),
            "to": message.recipient, "template": message.template_code, "subject": message.subject,
            "text": message.body, "ticket_id": message.ticket_id,
        }, ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class GatewayError(RuntimeError):
    """The SMS gateway refused a message or could not be reached."""


def sign(secret: str, timestamp: str, body: str) -> str:
    """Hex HMAC-SHA256 of ``f"{timestamp}\\n{body}"`` with the shared secret."""
    return hmac.new(secret.encode(), f"{timestamp}\n{body}".encode(), hashlib.sha256).hexdigest()


class HttpSmsDriver:
    """POST ``{to, text, idempotency_key}`` as JSON to an SMS gateway, signed with HMAC-SHA256.

    Headers: ``X-Hotline-Key`` (the key id), ``X-Hotline-Timestamp`` (Unix seconds) and
    ``X-Hotline-Signature`` (``sign(secret, timestamp, body)``). Any non-2xx answer is a failure.
    The gateway should deduplicate on ``idempotency_key``: delivery is at least once.
    """

    def __init__(self, url: str, key_id: str, secret: str, timeout: float = 10.0):
        self.url = url
        self.key_id = key_id
        self.secret = secret
        self.timeout = timeout

    def send(self, message: OutboxMessage) -> None:
        body = json.dumps({"to": message.recipient, "text": message.body, "idempotency_key": message.key},
                          ensure_ascii=False)
        timestamp = str(int(time.time()))
        request = urllib.request.Request(self.url, data=body.encode(), method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "X-Hotline-Key": self.key_id,
            "X-Hotline-Timestamp": timestamp,
            "X-Hotline-Signature": sign(self.secret, timestamp, body),
        })
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
                text = response.read(300).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status = exc.code
            text = exc.read(300).decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            raise GatewayError(f"SMS gateway {self.url} unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise GatewayError(f"SMS gateway answered HTTP {status}: {text[:200]}")

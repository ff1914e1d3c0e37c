"""Channel drivers for SMS: a file/log driver (the default) and a signed HTTP SMS-gateway driver.

A driver's ``send`` returns on success and raises on any failure; ``delivery`` does the retrying.
Inbox messages need no driver: delivering one writes an ``InboxItem`` row.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
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
    """Append one JSON line per message to a file (the worker uses ``HOTLINE_DATA_DIR/outbox/sms.log``).

    Exactly once per idempotency key, across threads and processes: the keys already in the file
    are indexed (the whole file once per process, then only what others appended since), and the
    check and the append happen under an exclusive ``flock`` on the file. A worker killed after
    writing a line but before marking the message sent never writes a second line for it.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._keys: set[str] = set()
        self._indexed: tuple[int, int] = (-1, 0)  # (inode, bytes of it already read into _keys)

    def send(self, message: OutboxMessage) -> None:
        line = json.dumps({
            "at": clock.now().isoformat(), "id": message.id, "key": message.key, "channel": str(message.channel),
            "to": message.recipient, "template": message.template_code, "subject": message.subject,
            "text": message.body, "ticket_id": message.ticket_id,
        }, ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                tail_ok = self._catch_up(fh)
                if message.key in self._keys:
                    return
                # A line cut short by a crash is closed first, so it cannot swallow this one.
                fh.write((b"" if tail_ok else b"\n") + line.encode("utf-8") + b"\n")
                fh.flush()
                self._indexed = (self._indexed[0], fh.tell())
                self._keys.add(message.key)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _catch_up(self, fh) -> bool:
        """Index the lines appended since the last look (all of them for a new or replaced file);
        True when the file is empty or ends with a complete line."""
        stat = os.fstat(fh.fileno())
        inode, done = self._indexed
        if stat.st_ino != inode or stat.st_size < done:
            self._keys.clear()
            inode, done = stat.st_ino, 0
        fh.seek(done)
        chunk = fh.read()
        for raw in chunk.split(b"\n"):
            try:
                key = json.loads(raw).get("key")
            except (ValueError, AttributeError):
                continue  # blank, or the remains of a line cut short by a crash
            if key:
                self._keys.add(key)
        self._indexed = (inode, done + len(chunk))
        if stat.st_size == 0:
            return True
        fh.seek(stat.st_size - 1)
        return fh.read(1) == b"\n"


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

"""Human-readable identifiers."""

from __future__ import annotations

import hashlib
import secrets

MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL: a larger one names no row


def ticket_number(local_day: str, seq: int) -> str:
    """``20261128-000123``: the local registration day and that day's sequence number."""
    return f"{local_day}-{seq:06d}"


def query_code() -> str:
    """A 6-digit code a caller uses with the ticket number to follow progress."""
    return f"{secrets.randbelow(1_000_000):06d}"


def new_token() -> str:
    return "hl_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are long random strings, so one SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()

"""Configuration from the environment. Every setting has one environment variable.

The same names appear in ``hotline --help``; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ENV_VARS: dict[str, str] = {
    "HOTLINE_DATA_DIR": "data directory (SQLite file, model files, logs); shared storage when web processes run on several machines; default ./data",
    "HOTLINE_DATABASE_URL": "SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db; default sqlite in the data dir",
    "HOTLINE_TIMEZONE": "local time zone for deadlines, numbering and display; default Asia/Shanghai",
    "HOTLINE_HOST": "address `hotline serve` listens on; default 127.0.0.1",
    "HOTLINE_PORT": "port `hotline serve` listens on; default 8000",
    "HOTLINE_QUEUE_URL": "worker queue: redis://… or postgresql://…; default the database (SQLite: queue.db in the data dir)",
    "HOTLINE_SMS_URL": "HTTP SMS gateway URL; default: SMS are written to outbox/sms.log in the data dir",
    "HOTLINE_SMS_KEY_ID": "key id sent to the SMS gateway (X-Hotline-Key)",
    "HOTLINE_SMS_SECRET": "shared secret that signs SMS gateway requests (HMAC-SHA256)",
    "HOTLINE_CLAIM_LEASE_SECONDS": "how long a worker holds claimed rows before another may take them; default 300",
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = 8000
    queue_url: str | None = None
    sms_url: str | None = None
    sms_key_id: str = ""
    sms_secret: str = ""
    claim_lease_seconds: int = 300
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = Path(env.get("HOTLINE_DATA_DIR") or "./data").expanduser()
    url = env.get("HOTLINE_DATABASE_URL") or f"sqlite:///{(data_dir / 'hotline.db').resolve()}"
    return Settings(
        data_dir=data_dir,
        database_url=url,
        timezone=env.get("HOTLINE_TIMEZONE") or "Asia/Shanghai",
        host=env.get("HOTLINE_HOST") or "127.0.0.1",
        port=int(env.get("HOTLINE_PORT") or 8000),
        queue_url=env.get("HOTLINE_QUEUE_URL") or None,
        sms_url=env.get("HOTLINE_SMS_URL") or None,
        sms_key_id=env.get("HOTLINE_SMS_KEY_ID") or "",
        sms_secret=env.get("HOTLINE_SMS_SECRET") or "",
        claim_lease_seconds=int(env.get("HOTLINE_CLAIM_LEASE_SECONDS") or 300),
    )

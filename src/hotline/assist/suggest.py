"""Category suggestions for a request text: the active ``category`` model's top 3, with names.

The active version is the one an admin activated (``hotline model activate``), else the newest
trained. It is loaded once per process and data directory and reloaded when another version becomes
active (checked at most every few seconds, by listing the model directory). No model, or one that cannot be
loaded, means no suggestions (an empty list), never an error at intake.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.classification import model as cmodel
from hotline.directory.models import Category

__all__ = ["clear_cache", "current_model", "suggest_category"]

CHECK_EVERY_S = 5.0
_log = logging.getLogger(__name__)
_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[float, cmodel.SavedModel | None]] = {}


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def current_model(data_dir: Path | str, name: str = "category") -> cmodel.SavedModel | None:
    """The active version of ``name``, loaded (cached; another version made active is picked up within seconds)."""
    key = (str(Path(data_dir).resolve()), name)
    now = time.monotonic()
    with _lock:
        checked, saved = _cache.get(key, (-1e9, None))
        if now - checked < CHECK_EVERY_S:
            return saved
        active = cmodel.active_version(data_dir, name)
        if active is not None and (saved is None or saved.version != active):
            try:
                saved = cmodel.load(data_dir, name, active)
            except cmodel.ModelError as exc:
                _log.warning("classification model not loaded: %s", exc.message)
                saved = None
        elif active is None:
            saved = None
        _cache[key] = (now, saved)
        return saved


def suggest_category(session: Session, data_dir: Path | str, text: str, k: int = 3
                     ) -> list[tuple[str, str, float]]:
    """The ``k`` most likely categories for ``text``: ``(code, name, probability)``, most likely first."""
    if not (text or "").strip():
        return []
    saved = current_model(data_dir, "category")
    if saved is None or saved.model is None:
        return []
    top = saved.model.top_k(text, k)
    names = dict(session.execute(select(Category.code, Category.name)
                                 .where(Category.code.in_([c for c, _ in top]))).all())
    return [(code, names.get(code, code), round(p, 4)) for code, p in top]


def suggest_label(data_dir: Path | str, name: str, text: str, k: int = 2, *, least: float = 0.1
                  ) -> list[tuple[str, float]]:
    """The request kind or the urgency (``name``: the ``kind`` or ``urgency`` model) most likely for
    ``text``: up to ``k`` ``(code, probability)``, most likely first, those under ``least`` left out
    (the first is always given); nothing without a model."""
    if not (text or "").strip():
        return []
    saved = current_model(data_dir, name)
    if saved is None or saved.model is None:
        return []
    top = saved.model.top_k(text, k)
    return [(code, round(p, 4)) for i, (code, p) in enumerate(top) if i == 0 or p >= least]


"""Training pairs from the platform's own history, and the agents' choices.

:func:`training_pairs` reads the tickets (title and content → category code, request kind or
urgency), leaving out merged, refused and handed-off tickets (their category says nothing about the
text, or was never checked), and adds the stored choices of :class:`ClassificationFeedback`: each
choice is repeated ``FEEDBACK_WEIGHT`` times, so a person's correction outweighs the history that
taught the model the wrong answer. :func:`train_from_db` trains and saves a model from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.assist.models import ClassificationFeedback
from hotline.classification import model as cmodel
from hotline.kit import clock
from hotline.tickets.models import Ticket
from hotline.tickets.states import Status

__all__ = ["FEEDBACK_WEIGHT", "record_choice", "train_all_from_db", "train_from_db", "training_pairs"]

FEEDBACK_WEIGHT = 5
EXCLUDED = (Status.merged, Status.refused, Status.handed_off)
_FIELD = {"category": Ticket.category_code, "kind": Ticket.kind, "urgency": Ticket.urgency}


def ticket_text(title: str | None, content: str | None) -> str:
    """The text a model reads for a ticket: its title and its content."""
    title, content = (title or "").strip(), (content or "").strip()
    return f"{title}。{content}" if title and content and not content.startswith(title) else (content or title)


def _label(value: Any) -> str:
    return str(getattr(value, "value", value))


def training_pairs(session: Session, name: str = "category", *, limit: int | None = None
                   ) -> tuple[list[str], list[str], dict[str, int]]:
    """``(texts, labels, counts)`` for model ``name`` from the tickets and the stored choices."""
    if name not in _FIELD:
        raise cmodel.ModelError(f"未知模型 {name}：可选 {', '.join(_FIELD)}")
    q = (select(Ticket.title, Ticket.content, _FIELD[name])
         .where(Ticket.status.not_in(EXCLUDED)).order_by(Ticket.id))
    if limit:
        q = q.limit(limit)
    texts, labels = [], []
    for title, content, label in session.execute(q):
        text = ticket_text(title, content)
        if text and label is not None:
            texts.append(text)
            labels.append(_label(label))
    n_tickets = len(texts)
    n_feedback = 0
    for text, chosen in session.execute(
            select(ClassificationFeedback.text, ClassificationFeedback.chosen_label)
            .where(ClassificationFeedback.model_name == name).order_by(ClassificationFeedback.id)):
        if text and chosen:
            texts.extend([text] * FEEDBACK_WEIGHT)
            labels.extend([chosen] * FEEDBACK_WEIGHT)
            n_feedback += 1
    return texts, labels, {"tickets": n_tickets, "feedback": n_feedback}


def train_from_db(session: Session, data_dir: Path | str, name: str = "category", *,
                  limit: int | None = None, _tokens: dict[str, list[str]] | None = None) -> cmodel.SavedModel:
    """Train model ``name`` on the database's history and choices; save it as the next version."""
    texts, labels, counts = training_pairs(session, name, limit=limit)
    cache = _tokens if _tokens is not None else {}
    for t in texts:
        if t not in cache:
            cache[t] = cmodel.TextClassifier.prepare([t])[0]
    clf = cmodel.TextClassifier().fit(texts, labels, prepared=[cache[t] for t in texts])
    return cmodel.save(clf, data_dir, name, n=len(texts), source="database", extra={"counts": counts})


def train_all_from_db(session: Session, data_dir: Path | str, names: Sequence[str] = cmodel.MODEL_NAMES,
                      ) -> list[cmodel.SavedModel]:
    """Train several models from the database, cutting each text into words once."""
    cache: dict[str, list[str]] = {}
    return [train_from_db(session, data_dir, name, _tokens=cache) for name in names]


def record_choice(session: Session, *, text: str, chosen_label: str, model_name: str = "category",
                  model_version: int | None = None, suggestions: Sequence[Any] = (),
                  ticket_id: int | None = None, user_id: int | None = None,
                  at: datetime | None = None) -> ClassificationFeedback:
    """Store what was suggested for ``text`` and what the person chose (in the caller's transaction).

    ``suggestions`` are the top suggestions as shown, most likely first: ``(label, probability)`` or
    ``(code, name, probability)`` tuples, or dicts with ``code``/``label`` and ``probability``."""
    text = (text or "").strip()
    if not text:
        raise cmodel.ModelError("文本为空，无法记录分类选择")
    if not chosen_label:
        raise cmodel.ModelError("没有选择类别")
    top = []
    for s in list(suggestions)[:3]:
        if isinstance(s, dict):
            top.append({"label": str(s.get("code") or s.get("label")), "probability": float(s.get("probability", 0))})
        else:
            top.append({"label": str(s[0]), "probability": float(s[-1])})
    row = ClassificationFeedback(
        ticket_id=ticket_id, text=text, model_name=model_name, model_version=model_version,
        suggested_label=top[0]["label"] if top else None, suggested_top=top, chosen_label=str(chosen_label),
        user_id=user_id, created_at=at or clock.now())
    session.add(row)
    session.flush()
    return row

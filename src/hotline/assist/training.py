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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hotline.assist.models import ClassificationFeedback
from hotline.classification import model as cmodel
from hotline.directory.models import Category, RequestKind
from hotline.kit import clock
from hotline.tickets.models import Ticket, Urgency
from hotline.tickets.states import Status

__all__ = ["FEEDBACK_WEIGHT", "check_training_set", "known_labels", "record_choice", "train_all_from_db",
           "train_from_db", "training_pairs"]

FEEDBACK_WEIGHT = 5
# Below these a trained model is noise that looks like advice (9 rows of 3 labels: 停水 99% for a
# streetlight): refused unless the admin insists (--force).
MIN_ROWS, MIN_PER_CLASS = 50, 2
SHOWN_LABELS = 10
EXCLUDED = (Status.merged, Status.refused, Status.handed_off)
_FIELD = {"category": Ticket.category_code, "kind": Ticket.kind, "urgency": Ticket.urgency}


def ticket_text(title: str | None, content: str | None) -> str:
    """The text a model reads for a ticket: its title and its content."""
    title, content = (title or "").strip(), (content or "").strip()
    return f"{title}。{content}" if title and content and not content.startswith(title) else (content or title)


def _label(value: Any) -> str:
    return str(getattr(value, "value", value))


def known_labels(session: Session, name: str) -> set[str]:
    """The labels model ``name`` may learn: the category codes for ``category``, the request kinds
    for ``kind``, the urgencies for ``urgency``."""
    if name == "category":
        try:
            codes = set(session.scalars(select(Category.code)))
        except DBAPIError:  # no categories table: a data directory never set up
            codes = set()
        if not codes:
            raise cmodel.ModelError("数据库中还没有事项分类，无法核对分类标签：先运行 hotline init")
        return codes
    if name == "kind":
        return {k.value for k in RequestKind}
    if name == "urgency":
        return {u.value for u in Urgency}
    raise cmodel.ModelError(f"未知模型 {name}：可选 {', '.join(_FIELD)}")


def check_training_set(session: Session, name: str, labels: Sequence[str], *, per_class: bool = True,
                       force: bool = False) -> None:
    """Refuses labels model ``name`` does not know, naming them (always: a label that is no category
    would be suggested to agents as one), then, unless ``force``, a set under ``MIN_ROWS`` rows or
    (``per_class``: a file, where a lone example is likely a typo) with a class under ``MIN_PER_CLASS``."""
    known = known_labels(session, name)
    unknown = sorted(set(labels) - known)
    if unknown:
        what = {"category": "分类编码", "kind": "诉求类型", "urgency": "紧急程度"}[name]
        shown = "、".join(unknown[:SHOWN_LABELS]) + (f"等 {len(unknown)} 种" if len(unknown) > SHOWN_LABELS else "")
        choices = ("见 系统管理 › 分类与时限" if name == "category" else "可选：" + "、".join(sorted(known)))
        raise cmodel.ModelError(f"模型 {name} 的标签须为{what}，以下标签不是：{shown}（{what}{choices}）")
    if force:
        return
    if len(labels) < MIN_ROWS:
        raise cmodel.ModelError(f"训练数据只有 {len(labels)} 条，少于 {MIN_ROWS} 条：这样的模型会把文本胡乱归类，"
                                f"训练后坐席会立即看到它的建议；确需训练请加 --force")
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    few = sorted(label for label, n in counts.items() if n < MIN_PER_CLASS)
    if per_class and few:
        shown = "、".join(few[:SHOWN_LABELS]) + (f"等 {len(few)} 个" if len(few) > SHOWN_LABELS else "")
        raise cmodel.ModelError(f"类别 {shown} 的样本少于 {MIN_PER_CLASS} 条：请补充样本或删去这些行；"
                                f"确需训练请加 --force")


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
                  limit: int | None = None, checked: bool = False, force: bool = False,
                  _tokens: dict[str, list[str]] | None = None) -> cmodel.SavedModel:
    """Train model ``name`` on the database's history and choices; save it as the next version.
    ``checked`` (an admin's command) refuses too few rows first (``check_training_set``; a rare
    category with one ticket is history, not a typo, so no minimum per class), unless ``force``."""
    texts, labels, counts = training_pairs(session, name, limit=limit)
    if checked:
        check_training_set(session, name, labels, per_class=False, force=force)
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

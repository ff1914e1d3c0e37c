"""Agents' answers to classification suggestions: what the model proposed and what the person chose."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kit.db import Base, UTCDateTime


class ClassificationFeedback(Base):
    """One choice: the suggestions shown for a text and the label the person chose (a correction when they differ).

    The next ``hotline model train --from-db`` adds every choice to the training pairs (a correction
    counts more than one ticket of history)."""

    __tablename__ = "classification_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    model_name: Mapped[str] = mapped_column(String(40))
    model_version: Mapped[int | None] = mapped_column(Integer)
    suggested_label: Mapped[str | None] = mapped_column(String(40))
    suggested_top: Mapped[list[Any]] = mapped_column(JSON, default=list)
    chosen_label: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

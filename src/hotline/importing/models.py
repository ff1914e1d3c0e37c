"""What the ticket import remembers of each row it registered, so that the same row is not registered
twice (:mod:`hotline.importing.tickets`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.kit.db import Base, UTCDateTime


class TicketImport(Base):
    """A ticket registered from a spreadsheet row, and the row's fingerprint (its identifying fields,
    normalised and hashed). The fingerprint is unique: two imports of the same row, even at the same
    moment in two processes, cannot both be kept; the database refuses the second."""

    __tablename__ = "ticket_imports"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    row: Mapped[int] = mapped_column(Integer)  # the spreadsheet row it was registered from
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

"""A briefing as one printable HTML page: self-contained (inline CSS and SVG, no script, no link
to anything), A4 portrait when printed, in Chinese. Rendered by Jinja2 from ``templates/``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hotline.kit import clock
from hotline.reports.build import Report

HERE = Path(__file__).parent
env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)


def pct(value: float | None, digits: int = 1) -> str:
    """0.8765 → '87.7%'; None → '—' (nothing was counted)."""
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def num(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def signed(value: int | float | None, digits: int = 0) -> str:
    """+12 / -3 / 0."""
    if value is None:
        return "—"
    return f"{value:+.{digits}f}" if digits else f"{int(value):+d}"


def points(now: float | None, before: float | None) -> str:
    """The change of a rate in percentage points: '+2.3 个百分点'; '持平' when it rounds to none
    (never '-0.0 个百分点')."""
    if now is None or before is None:
        return "—"
    shown = f"{100 * (now - before):+.1f}"
    return "持平" if float(shown) == 0 else f"{shown} 个百分点"


def local(value: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return clock.local(value).strftime(fmt)


def bars(objects: list[Any], label: str, value: str, *, width: int = 640, bar: int = 18, label_width: int = 170,
         fmt: str = "{:g}") -> dict:
    """The geometry of a horizontal bar chart of ``objects`` (their attributes ``label`` and
    ``value``), drawn as inline SVG by the template's macro."""
    rows = [(str(getattr(o, label)), float(getattr(o, value) or 0)) for o in objects]
    top = max((v for _, v in rows), default=0) or 1
    room = width - label_width - 60
    items = [{"label": name, "value": v, "text": fmt.format(v), "y": i * (bar + 6),
              "w": max(1.0, room * v / top) if v else 0.0} for i, (name, v) in enumerate(rows)]
    return {"items": items, "width": width, "height": max(1, len(rows)) * (bar + 6), "bar": bar,
            "label_width": label_width}


env.filters.update(pct=pct, num=num, signed=signed, local=local)
env.globals.update(points=points, bars=bars)


def render(report: Report) -> str:
    """The report as a complete HTML document."""
    return env.get_template("report.html").render(r=report)

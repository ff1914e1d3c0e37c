"""``hotline analytics``: rebuild or refresh the dashboards' rollups, and print 三率 tables and the
monthly rankings from a shell. Each command is one transaction (the services only flush)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

DIMENSIONS = ("unit", "township", "category", "all")


@click.group()
def analytics() -> None:
    """Assessment (三率) and the dashboards' rollup tables."""


@analytics.command()
@click.pass_obj
def rebuild(env: Any) -> None:
    """Recompute every rollup row from the raw tables (after an import, or to check them)."""
    import time

    from hotline.analytics import rollups

    started = time.perf_counter()
    with env.db.transaction() as session:
        rollups.rebuild(session)
    click.echo(f"汇总表已重建，用时 {time.perf_counter() - started:.1f} 秒")


@analytics.command()
@click.pass_obj
def refresh(env: Any) -> None:
    """Recompute the days touched since the last run (what the worker does every 5 minutes)."""
    from hotline.analytics import rollups

    with env.db.transaction() as session:
        result = rollups.refresh(session)
    click.echo("汇总表已重建" if result.rebuilt else f"已更新 {result.days} 天的汇总")


def _month(value: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", value.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise click.BadParameter("须为 YYYY-MM，例如 2026-11")
    return int(m.group(1)), int(m.group(2))


def figures_json(f: Any) -> dict[str, Any]:
    """One row of an assessment table as JSON (also the API's shape)."""
    return {"key": f.key, "label": f.label, "rank": f.rank, "score": f.score,
            "response_rate": f.response_rate, "resolution_rate": f.resolution_rate,
            "satisfaction_rate": f.satisfaction_rate, "on_time_rate": f.on_time_rate,
            "response_base": f.response_base, "responded": f.responded, "counts": f.counts, "notes": f.notes}


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


@analytics.command()
@click.option("--by", "dimension", type=click.Choice(DIMENSIONS), default="unit", show_default=True)
@click.option("--month", "month", default=None, help="Assessment month YYYY-MM (default: the current one).")
@click.option("--raw", is_flag=True, help="Compute from the raw tables instead of the rollups.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array.")
@click.pass_obj
def ranking(env: Any, dimension: str, month: str | None, raw: bool, as_json: bool) -> None:
    """The monthly ranking by composite score (三率 weighted by the rules)."""
    from hotline.analytics import rates
    from hotline.kit import clock

    with env.db.transaction(write=False) as session:
        rules = rates.current_rules(session)
        year, mon = _month(month) if month else rates.month_of(clock.local().date(), rules.period_start_day)
        rows = rates.monthly_ranking(session, dimension, year, mon, raw=raw)
        first, last = rates.month_period(year, mon, rules.period_start_day)
    if as_json:
        click.echo(json.dumps([figures_json(r) for r in rows], ensure_ascii=False))
        return
    click.echo(f"{year}年{mon}月（{first}—{last}）  权重 响应/解决/满意 = "
               + "/".join(f"{w:g}" for w in rules.weights))
    click.echo(f"{'排名':>4}  {'综合得分':>8}  {'响应率':>7}  {'解决率':>7}  {'满意率':>7}  {'派单':>5}  名称")
    for r in rows:
        click.echo(f"{r.rank if r.rank is not None else '-':>4}  {r.score if r.score is not None else '-':>8}  "
                   f"{_pct(r.response_rate):>7}  {_pct(r.resolution_rate):>7}  {_pct(r.satisfaction_rate):>7}  "
                   f"{r.response_base:>5}  {r.label}" + (f"（{'；'.join(r.notes)}）" if r.notes else ""))




@analytics.command()
@click.option("--kind", type=click.Choice(("daily", "weekly", "monthly")), required=True,
              help="daily 日报, weekly 周报 (Monday–Sunday), monthly 月报 (the assessment month).")
@click.option("--date", "day", default=None, help="A day of the period, YYYY-MM-DD (default: yesterday).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write the two files (<label>.html, <label>.xlsx) into this directory.")
@click.pass_obj
def report(env: Any, kind: str, day: str | None, out: Path | None) -> None:
    """Make a briefing now, as printable HTML and an Excel workbook, and store it in the database
    (replacing a stored one of the same period; the /reports page lists it)."""
    from datetime import date, timedelta

    from hotline.kit import clock
    from hotline.reports import store
    from hotline.reports.build import build

    try:
        when = date.fromisoformat(day) if day else clock.local().date() - timedelta(days=1)
    except ValueError as bad:
        raise click.BadParameter("须为 YYYY-MM-DD，例如 2026-03-05", param_hint="--date") from bad
    with env.db.transaction(write=False) as session:  # building only reads; SQLite's writer stays free
        made = build(session, kind, when)
    rendered = store.Rendered.of(made)
    with env.db.transaction() as session:
        store.save(session, rendered)
    click.echo(f"{made.title}：受理 {made.volume.total.count} 件")
    click.echo(f"已保存：{made.kind_label} {rendered.label}（/reports/{kind}/{rendered.label}.html）")
    if out is not None:
        page, book = rendered.write_files(out)
        click.echo(str(page))
        click.echo(str(book))

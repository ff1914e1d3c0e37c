"""``hotline incidents`` as a supervisor uses it from a shell, on SQLite and PostgreSQL: detection
proposes the 裴介镇 outage, the list shows it, confirming links its tickets, dismissing needs a
reason and someone who may decide."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import Result
from sqlalchemy import select

from hotline.incidents import service
from hotline.incidents.models import Incident, IncidentState
from hotline.kit import clock
from hotline.kit.db import Database
from tests.cli.conftest import ok
from tests.incidents.test_detect import START, _burst


def fails(result: Result, words: str) -> None:
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


@pytest.fixture
def outage(db: Database, session, people, hotline) -> tuple[int, set[str]]:
    """Seven 停水 calls from 裴介镇 within an hour, detected from the command line: (id, numbers)."""
    numbers = {t.number for t in _burst(session, people)}
    session.commit()
    clock.freeze(START + timedelta(minutes=65))
    out = ok(hotline("incidents", "detect"))
    assert "新提议 1 个" in out and "裴介镇" in out and "待确认" in out
    with db.transaction(write=False) as s:
        incident_id = s.scalars(select(Incident.id)).one()
    return incident_id, numbers


def test_detect_proposes_the_burst_and_the_list_shows_it(hotline, outage):
    incident_id, numbers = outage
    listed = ok(hotline("incidents", "list", "--status", "proposed"))
    assert f"{incident_id:5d}  待确认" in listed and "裴介镇" in listed and "7 件工单" in listed
    [obj] = json.loads(ok(hotline("incidents", "list", "--json")))
    assert obj["id"] == incident_id and obj["state"] == "proposed" and obj["ticket_count"] == 7
    assert obj["area"]["name"].endswith("裴介镇") and obj["population"] > 0
    assert ok(hotline("incidents", "list", "--status", "confirmed")).strip() == "没有已确认的突发事件"
    # Running detection again proposes nothing new: the burst is the same incident.
    assert "新提议 0 个" in ok(hotline("incidents", "detect"))
    shown = ok(hotline("incidents", "show", str(incident_id)))
    assert "候选" in shown and all(n in shown for n in numbers) and "人口" in shown
    assert hotline("incidents", "list", "--status", "lost").exit_code == 2


def test_confirming_links_the_tickets_and_cannot_be_done_twice(db, hotline, outage, people):
    incident_id, numbers = outage
    out = ok(hotline("incidents", "confirm", str(incident_id), "--by", "t-supervisor", "--note", "朱吕供水站闸阀井故障"))
    assert f"已确认事件 {incident_id}" in out and "关联工单 7 件" in out
    with db.transaction(write=False) as s:
        incident = s.get(Incident, incident_id)
        assert incident.state == IncidentState.confirmed and incident.decided_by_id == people.supervisor.id
        assert len(service.ticket_ids(s, incident, linked=True)) == 7
    shown = ok(hotline("incidents", "show", str(incident_id)))
    assert "已确认" in shown and "t-supervisor" in shown and "朱吕供水站闸阀井故障" in shown
    assert shown.count("已关联") == 7 and "候选" not in shown
    detail = json.loads(ok(hotline("incidents", "show", str(incident_id), "--json")))
    assert {t["number"] for t in detail["tickets"]} == numbers and all(t["linked"] for t in detail["tickets"])
    fails(hotline("incidents", "confirm", str(incident_id), "--by", "t-supervisor"), "不能再确认")
    fails(hotline("incidents", "dismiss", str(incident_id), "--by", "t-supervisor", "--reason", "误报"), "不能再排除")


def test_dismissing_needs_a_reason_and_someone_who_may_decide(db, hotline, outage):
    incident_id, _ = outage
    missing = hotline("incidents", "dismiss", str(incident_id), "--by", "t-supervisor")
    assert missing.exit_code == 2 and "--reason" in missing.output
    fails(hotline("incidents", "dismiss", str(incident_id), "--by", "t-supervisor", "--reason", "  "), "请填写排除理由")
    fails(hotline("incidents", "dismiss", str(incident_id), "--by", "nobody", "--reason", "演练"), "用户 nobody 不存在")
    fails(hotline("incidents", "dismiss", str(incident_id), "--by", "t-handler-a", "--reason", "演练"), "只有督办员")
    fails(hotline("incidents", "confirm", "9999", "--by", "t-supervisor"), "事件 9999 不存在")
    fails(hotline("incidents", "show", "9999"), "事件 9999 不存在")
    with db.transaction(write=False) as s:
        assert s.get(Incident, incident_id).state == IncidentState.proposed  # nothing changed
    out = ok(hotline("incidents", "dismiss", str(incident_id), "--by", "t-supervisor", "--reason", "演练，非真实停水"))
    assert f"已排除事件 {incident_id}" in out and "演练，非真实停水" in out
    assert "已排除" in ok(hotline("incidents", "list", "--status", "dismissed"))
    assert ok(hotline("incidents", "list", "--status", "proposed")).strip() == "没有待确认的突发事件"
    assert "演练，非真实停水" in ok(hotline("incidents", "show", str(incident_id)))


def test_a_public_notice_is_published_shown_and_withdrawn(hotline, outage):
    incident_id, _ = outage
    text = "裴介镇朱吕村等4个村停水，供水站正在抢修，预计今晚恢复。"
    fails(hotline("incidents", "notice", str(incident_id), "--by", "t-supervisor", "--text", text),
          "只有已确认的突发事件可以发布对外公告")
    ok(hotline("incidents", "confirm", str(incident_id), "--by", "t-supervisor"))
    both = hotline("incidents", "notice", str(incident_id), "--by", "t-supervisor")
    assert both.exit_code == 2 and "二选一" in both.output
    fails(hotline("incidents", "notice", str(incident_id), "--by", "t-supervisor", "--text", "停水"), "至少 5 个字")
    out = ok(hotline("incidents", "notice", str(incident_id), "--by", "t-supervisor", "--text", text))
    assert f"已发布事件 {incident_id} 的对外公告" in out
    assert "对外公告（" in ok(hotline("incidents", "show", str(incident_id))) and text in ok(
        hotline("incidents", "show", str(incident_id)))
    assert json.loads(ok(hotline("incidents", "show", str(incident_id), "--json")))["public_notice"]["text"] == text
    ok(hotline("incidents", "notice", str(incident_id), "--by", "t-supervisor", "--withdraw"))
    assert "对外公告" not in ok(hotline("incidents", "show", str(incident_id)))
    fails(hotline("incidents", "notice", str(incident_id), "--by", "t-supervisor", "--withdraw"), "没有正在发布的公告")

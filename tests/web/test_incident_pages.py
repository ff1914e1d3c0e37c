"""The incidents page: a supervisor confirms a proposed incident; who may see it; CSRF."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.incidents import service
from hotline.incidents.detect import detect
from hotline.incidents.models import Incident, IncidentState
from hotline.kit import clock
from hotline.tickets.models import Ticket
from tests.incidents.test_detect import START, _burst


def _proposed(session, people) -> tuple[int, list[tuple[int, str]]]:
    """The id of the proposed incident and its tickets' (id, number); committed, so the site sees them."""
    tickets = [(t.id, t.number) for t in _burst(session, people)]
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    incident_id = session.scalars(select(Incident.id)).one()
    session.commit()
    return incident_id, tickets


def test_a_supervisor_sees_the_proposal_and_confirms_it(site, session, people):
    incident_id, tickets = _proposed(session, people)
    client, csrf = site.signed_in("supervisor")
    page = client.get("/incidents").text
    assert "突发事件" in page and "待确认" in page and "裴介镇" in page
    assert "朱吕村" in page and "10,702" in page and f"/tickets/{tickets[0][1]}" in page
    r = client.post(f"/incidents/{incident_id}/dismiss", data={"csrf": csrf, "reason": " "})
    assert r.status_code == 422 and "请填写排除理由" in r.text
    r = client.post(f"/incidents/{incident_id}/confirm", data={"csrf": csrf, "note": "朱吕供水站闸阀井故障"})
    assert r.status_code == 303
    assert f"已确认事件 {incident_id}" in client.get(r.headers["location"]).text
    incident = session.get(Incident, incident_id)
    assert incident.state == IncidentState.confirmed and incident.note == "朱吕供水站闸阀井故障"
    assert service.ticket_ids(session, incident, linked=True) == {t[0] for t in tickets}
    session.commit()
    r = client.post(f"/incidents/{incident_id}/dismiss", data={"csrf": csrf, "reason": "误报"})
    assert r.status_code == 409 and "已确认" in r.text
    # Each linked ticket's timeline leads back to the incident, which the list anchors.
    ticket_page = client.get(f"/tickets/{tickets[0][1]}").text
    assert f'href="/incidents#incident-{incident_id}"' in ticket_page
    assert f'id="incident-{incident_id}"' in client.get("/incidents").text


def test_a_handler_is_refused_and_a_post_without_csrf_is_refused(site, session, people):
    incident_id, _ = _proposed(session, people)
    handler, csrf = site.signed_in("handler_a")
    assert handler.get("/incidents").status_code == 403
    assert handler.post(f"/incidents/{incident_id}/confirm", data={"csrf": csrf}).status_code == 403
    supervisor, _ = site.signed_in("supervisor")
    r = supervisor.post(f"/incidents/{incident_id}/confirm", data={"note": "x"})
    assert r.status_code == 403 and "页面已过期" in r.text
    dispatcher, _ = site.signed_in("dispatcher")
    assert dispatcher.get("/incidents").status_code == 200
    assert session.get(Incident, incident_id).state == IncidentState.proposed


def test_calls_that_join_a_dismissed_incident_are_counted_on_it(site, session, people):
    from tests.builders import make_ticket
    from tests.incidents.test_detect import OUTAGE

    incident_id, _ = _proposed(session, people)
    client, csrf = site.signed_in("supervisor")
    r = client.post(f"/incidents/{incident_id}/dismiss", data={"csrf": csrf, "reason": "供水站计划检修，已提前通知"})
    assert r.status_code == 303
    for i, code in enumerate(["140828102205", "140828102206", "140828102207", "140828102201"]):
        clock.freeze(START + timedelta(minutes=80 + 5 * i))
        make_ticket(session, people, category_code="0101", region_code=code, urgency="normal",
                    content=OUTAGE[i % 3].format(v="小吕村"))
    clock.freeze(START + timedelta(minutes=100))
    assert detect(session).proposed == 0
    session.commit()
    page = client.get("/incidents").text
    assert "待确认 0 件" in page
    assert "排除后" in page and "又有 4 件同类来电并入本事件，未再提示" in page


def test_an_agent_taking_a_call_from_the_area_is_told_of_the_running_incident(site, session, people):
    incident_id, _ = _proposed(session, people)  # 裴介镇's outage, proposed at START + 65 min
    agent, _ = site.signed_in("agent")

    def panel(region: str) -> str:
        r = agent.get("/agent/nearby", params={"region": region, "content": "我们村也停水了"})
        assert r.status_code == 200
        return r.text

    xiaolv = panel("140828102205")  # 小吕村, in 裴介镇 but none of the calls came from it
    assert "本地正在发生疑似突发事件" in xiaolv and "夏县裴介镇4处集中反映停水" in xiaolv and "已有 7 件来电" in xiaolv
    assert "突发事件" not in panel("140828100200")  # 南关村, another township
    assert "夏县裴介镇4处集中反映停水" in panel("140828102")  # the township only
    assert "夏县裴介镇4处集中反映停水" in panel("140828")  # the county (the incident lies inside it)

    supervisor, csrf = site.signed_in("supervisor")
    supervisor.post(f"/incidents/{incident_id}/confirm", data={"csrf": csrf, "note": "朱吕供水站水泵故障，预计15时恢复"})
    confirmed = panel("140828102205")
    assert "本地正在发生突发事件" in confirmed and "督办说明：朱吕供水站水泵故障，预计15时恢复" in confirmed

    clock.freeze(START + timedelta(hours=26))  # a day without calls: no longer running
    agent, _ = site.signed_in("agent")  # (the earlier sign-in has expired by then)
    assert "突发事件" not in panel("140828102205")


def test_a_dismissed_incident_is_not_told_to_agents(site, session, people):
    incident_id, _ = _proposed(session, people)
    supervisor, csrf = site.signed_in("supervisor")
    supervisor.post(f"/incidents/{incident_id}/dismiss", data={"csrf": csrf, "reason": "演练"})
    agent, _ = site.signed_in("agent")
    assert "突发事件" not in agent.get("/agent/nearby", params={"region": "140828102205"}).text


def test_a_public_notice_reaches_the_portal_and_the_agents_until_it_is_withdrawn(site, session, people):
    incident_id, tickets = _proposed(session, people)
    supervisor, csrf = site.signed_in("supervisor")
    assert "发布对外公告" not in supervisor.get("/incidents").text  # not before it is confirmed
    r = supervisor.post(f"/incidents/{incident_id}/notice", data={"csrf": csrf, "notice": "裴介镇停水，正在抢修。"})
    assert r.status_code == 409 and "只有已确认的突发事件可以发布对外公告" in r.text
    supervisor.post(f"/incidents/{incident_id}/confirm", data={"csrf": csrf, "note": "朱吕供水站水泵故障（内部）"})
    page = supervisor.get("/incidents").text
    assert "未发布对外公告" in page
    assert "夏县裴介镇部分地区出现停水情况，相关部门正在处理，恢复时间另行通知。" in page  # the draft offered

    r = supervisor.post(f"/incidents/{incident_id}/notice", data={"csrf": csrf, "notice": "停水"})
    assert r.status_code == 422 and "请填写公告内容（至少 5 个字）" in r.text and ">停水</textarea>" in r.text
    text = "裴介镇朱吕村等4个村停水，供水站正在抢修，预计今晚8点前恢复供水。"
    r = supervisor.post(f"/incidents/{incident_id}/notice", data={"csrf": csrf, "notice": text})
    assert r.status_code == 303
    assert "的对外公告已发布" in supervisor.get(r.headers["location"]).text

    citizen = site.browser()
    # a caller whose ticket is linked reads the notice when following the request
    from tests.web.conftest import csrf_of
    number, code = session.execute(select(Ticket.number, Ticket.query_code).where(Ticket.id == tickets[0][0])).one()
    session.commit()  # end the read: the site writes next
    tracked = citizen.post("/portal/track", data={"csrf": csrf_of(citizen.get("/portal/track").text),
                                                  "number": number, "code": code}).text
    assert "相关公告" in tracked and text in tracked and "朱吕供水站水泵故障" not in tracked
    portal = citizen.get("/portal").text
    assert "当前公告" in portal and "夏县裴介镇" in portal and text in portal
    assert "朱吕供水站水泵故障" not in portal  # the supervisor's note stays internal
    hint = citizen.get("/portal/regions", params={"region": "裴介镇 小吕村"}).text
    assert "将登记为" in hint and "该地区有公告" in hint and text in hint
    assert "该地区有公告" not in citizen.get("/portal/regions", params={"region": "瑶峰镇 南关村"}).text
    agent, _ = site.signed_in("agent")
    assert f"对外公告（可照此答复来电人）：{text}" in agent.get(
        "/agent/nearby", params={"region": "140828102205"}).text

    handler, handler_csrf = site.signed_in("handler_a")
    assert handler.post(f"/incidents/{incident_id}/notice/withdraw", data={"csrf": handler_csrf}).status_code == 403
    r = supervisor.post(f"/incidents/{incident_id}/notice/withdraw", data={"csrf": csrf})
    assert r.status_code == 303 and "的对外公告已撤下" in supervisor.get(r.headers["location"]).text
    assert "当前公告" not in site.browser().get("/portal").text
    assert "对外公告" not in agent.get("/agent/nearby", params={"region": "140828102205"}).text


def test_a_dismissal_reason_is_capped_like_a_supervision_note(site, session, people):
    """排除理由 took 4,200 characters (and kept the first 500 without a word): it is refused past
    2,000, as 催办/督办 notes are, with the count said and the form reopened with what was typed."""
    incident_id, _ = _proposed(session, people)
    client, csrf = site.signed_in("supervisor")
    long = "供水站计划检修，已提前通知各村。" * 263  # 4,208 characters
    r = client.post(f"/incidents/{incident_id}/dismiss", data={"csrf": csrf, "reason": long})
    assert r.status_code == 422 and f"排除理由过长：{len(long)} 字，最多 2000 字" in r.text
    assert f'value="{long}"' in r.text and "<details class=\"actions\" open>" in r.text
    assert session.get(Incident, incident_id).state == IncidentState.proposed
    session.rollback()  # the site writes next
    r = client.post(f"/incidents/{incident_id}/confirm", data={"csrf": csrf, "note": "故障" * 1001})
    assert r.status_code == 422 and "确认说明过长：2002 字，最多 2000 字" in r.text
    assert session.get(Incident, incident_id).state == IncidentState.proposed
    session.rollback()
    reason = "检" * 2000  # at the cap: taken, and kept whole (no longer cut to 500)
    r = client.post(f"/incidents/{incident_id}/dismiss", data={"csrf": csrf, "reason": reason})
    assert r.status_code == 303
    incident = session.get(Incident, incident_id)
    assert incident.state == IncidentState.dismissed and incident.note == reason


def test_a_big_incident_links_to_all_its_tickets_where_a_wrong_one_is_taken_out(site, session, people):
    from tests.builders import make_ticket

    incident_id, tickets = _proposed(session, people)
    service.confirm(session, session.get(Incident, incident_id), actor=people.supervisor)
    stray = make_ticket(session, people, category_code="0101", region_code="140828100001", urgency="normal",
                        content="咨询居民用水价格标准。")
    session.commit()
    client, csrf = site.signed_in("supervisor")
    r = client.post(f"/incidents/{incident_id}/tickets", data={"csrf": csrf, "numbers": f"{stray.number}，"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "已添加 1 件工单" in page and "夏县</td>" in page  # the area widened to the county
    # The list shows 10 tickets at most; the rest are a link away.
    listing = client.get("/incidents").text
    assert f'<a href="/incidents/{incident_id}">另有' not in listing  # 8 tickets: all shown
    page = client.get(f"/incidents/{incident_id}").text
    assert all(number in page for _, number in tickets) and stray.number in page and "城东社区" in page
    remove = f"/incidents/{incident_id}/tickets/{stray.number}/remove"
    assert f'action="{remove}"' in page and 'hx-confirm="将工单' in page
    r = client.post(remove, data={"csrf": csrf})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert f"工单 {stray.number} 已移出本事件" in page and "夏县裴介镇</td>" in page
    assert "已移出突发事件" in client.get(f"/tickets/{stray.number}").text
    r = client.post(f"/incidents/{incident_id}/tickets", data={"csrf": csrf, "numbers": "20990101-000001"})
    assert r.status_code == 404 and "不存在" in r.text and 'value="20990101-000001"' in r.text


def test_more_than_ten_tickets_are_a_link_to_the_full_list(site, session, people):
    from tests.builders import make_ticket
    from tests.incidents.test_detect import OUTAGE

    incident_id, _ = _proposed(session, people)
    incident = session.get(Incident, incident_id)
    service.confirm(session, incident, actor=people.supervisor)
    extra = [make_ticket(session, people, category_code="0101", region_code="140828102205", urgency="normal",
                         content=OUTAGE[i % 3].format(v="小吕村")) for i in range(5)]
    service.add_tickets(session, incident, actor=people.supervisor, numbers=[t.number for t in extra])
    session.commit()
    client, _ = site.signed_in("supervisor")
    listing = client.get("/incidents").text
    assert f'<a href="/incidents/{incident_id}">另有 2 件，查看全部 12 件工单</a>' in listing
    page = client.get(f"/incidents/{incident_id}").text
    assert "全部工单 <small>（12）</small>" in page and all(t.number in page for t in extra)


def test_a_supervisor_is_asked_before_each_irreversible_step_and_ends_an_incident(site, session, people):
    incident_id, _ = _proposed(session, people)
    client, csrf = site.signed_in("supervisor")
    listing = client.get("/incidents").text
    # Each irreversible step asks first.
    assert 'hx-confirm="确认后这 7 件工单将关联到该事件' in listing
    client.post(f"/incidents/{incident_id}/confirm", data={"csrf": csrf})
    listing = client.get("/incidents").text
    assert 'hx-confirm="发布后将立即向本事件 7 件工单的来电人发送短信' in listing
    assert f'action="/incidents/{incident_id}/end"' in listing and 'hx-confirm="结束后该事件不再关联新来电' in listing
    client.post(f"/incidents/{incident_id}/notice", data={"csrf": csrf, "notice": "裴介镇部分村停水，正在抢修。"})
    assert 'hx-confirm="撤下后' in client.get("/incidents").text
    r = client.post(f"/incidents/{incident_id}/end", data={"csrf": csrf})
    assert r.status_code == 303
    listing = client.get(r.headers["location"]).text
    assert f"事件 {incident_id} 已结束" in listing and "已结束 · " in listing and "不再关联新来电</td>" in listing
    assert f'action="/incidents/{incident_id}/end"' not in listing and "撤下公告" not in listing
    assert session.get(Incident, incident_id).state == IncidentState.ended
    session.commit()
    r = client.post(f"/incidents/{incident_id}/end", data={"csrf": csrf})
    assert r.status_code == 409 and "只有已确认的事件可以结束" in r.text


def test_a_notice_cannot_be_made_up_in_the_address(site, session, people):
    """The notice after a decision names the incident as the decision left it; other text in the
    address shows nothing (it used to be shown as a green notice, whatever it said)."""
    incident_id, _ = _proposed(session, people)
    client, csrf = site.signed_in("supervisor")
    for made_up in ("dismissed=所有事件已由市长批准关闭，请勿再登记", f"dismissed={incident_id}",
                    f"confirmed={incident_id}", "ended=99999", f"published={incident_id}"):
        page = client.get(f"/incidents?{made_up}").text
        assert "市长批准" not in page and "已排除事件" not in page and "已确认事件" not in page
        assert "已结束，不再关联" not in page and "对外公告已发布" not in page
    r = client.post(f"/incidents/{incident_id}/dismiss", data={"csrf": csrf, "reason": "村里自行维修，不是突发事件"})
    assert r.status_code == 303
    assert f"已排除事件 {incident_id}" in client.get(r.headers["location"]).text


def test_a_supervisor_takes_a_wrong_call_out_of_a_proposal_then_confirms_the_rest(site, session, people):
    incident_id, tickets = _proposed(session, people)
    wrong = tickets[3][1]  # 郭村's only call
    client, csrf = site.signed_in("supervisor")
    listing = client.get("/incidents").text
    assert "请先在<a href=\"/incidents/" in listing  # the proposal points to where a call is taken out
    page = client.get(f"/incidents/{incident_id}").text
    remove = f"/incidents/{incident_id}/tickets/{wrong}/remove"
    assert f'action="{remove}"' in page and f'hx-confirm="将工单 {wrong} 移出本事件？确认事件时不再关联该工单' in page
    r = client.post(remove, data={"csrf": csrf})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert f"工单 {wrong} 已移出本事件" in page and "3 处" in page and "全部工单 <small>（6）</small>" in page
    assert 'id="removed"' in page and "已移出的工单 <small>（1）</small>" in page
    assert "t-supervisor 移出工单" in page  # the history
    assert 'hx-confirm="确认后这 6 件工单将关联到该事件' in client.get("/incidents").text
    r = client.post(f"/incidents/{incident_id}/confirm", data={"csrf": csrf})
    assert r.status_code == 303
    incident = session.get(Incident, incident_id)
    assert service.ticket_ids(session, incident, linked=True) == {t[0] for t in tickets} - {tickets[3][0]}
    assert "已移出突发事件" not in client.get(f"/tickets/{wrong}").text  # the call was never part of it


def test_an_ended_incident_is_reopened_after_asking(site, session, people):
    incident_id, _ = _proposed(session, people)
    client, csrf = site.signed_in("supervisor")
    client.post(f"/incidents/{incident_id}/confirm", data={"csrf": csrf})
    assert f'action="/incidents/{incident_id}/reopen"' not in client.get("/incidents").text  # running: nothing to reopen
    client.post(f"/incidents/{incident_id}/end", data={"csrf": csrf})
    listing = client.get("/incidents").text
    assert f'action="/incidents/{incident_id}/reopen"' in listing and 'hx-confirm="重新开启后该事件恢复为已确认' in listing
    handler, handler_csrf = site.signed_in("handler_a")
    assert handler.post(f"/incidents/{incident_id}/reopen", data={"csrf": handler_csrf}).status_code == 403
    r = client.post(f"/incidents/{incident_id}/reopen", data={"csrf": csrf})
    assert r.status_code == 303
    listing = client.get(r.headers["location"]).text
    assert f"事件 {incident_id} 已重新开启" in listing and f'action="/incidents/{incident_id}/end"' in listing
    assert session.get(Incident, incident_id).state == IncidentState.confirmed
    session.commit()
    r = client.post(f"/incidents/{incident_id}/reopen", data={"csrf": csrf})
    assert r.status_code == 409 and "只有已结束的事件可以重新开启" in r.text
    history = client.get(f"/incidents/{incident_id}").text
    assert history.index("t-supervisor 结束事件") < history.index("t-supervisor 重新开启")
    assert "已重新开启" not in client.get(f"/incidents?reopened={incident_id + 1}").text

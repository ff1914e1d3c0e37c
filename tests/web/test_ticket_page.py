"""The ticket page (/tickets/<number>): urgency, the place, the deadlines as the unit sees them."""

from __future__ import annotations

from sqlalchemy import select

from hotline.kit import clock
from hotline.tickets import lifecycle
from hotline.tickets.models import Ticket
from hotline.tickets.states import Status
from hotline.web.routes.tickets import place_text
from tests.builders import make_ticket


def heading(html: str) -> str:
    return html[html.index("<h1>"):html.index("</h1>")]


def field(html: str, name: str) -> str:
    """The text of one ``<dt>name</dt><dd>…</dd>`` of the ticket's fields."""
    start = html.index(f"<dt>{name}</dt><dd>") + len(f"<dt>{name}</dt><dd>")
    return html[start:html.index("</dd>", start)]


def test_the_urgency_is_shown_as_a_badge_for_urgent_and_emergency_tickets(site, session, people):
    urgent = make_ticket(session, people, Status.dispatched)  # the builder registers as 紧急
    emergency = make_ticket(session, people, Status.registered, urgency="emergency")
    normal = make_ticket(session, people, Status.dispatched, urgency="normal")
    session.commit()
    client, _ = site.signed_in("handler_a")
    page = client.get(f"/tickets/{urgent.number}").text
    assert '<span class="badge urgency-urgent">紧急</span>' in heading(page) and field(page, "紧急程度") == "紧急"
    page = client.get(f"/tickets/{normal.number}").text
    assert "urgency-" not in heading(page) and "一般" not in heading(page) and field(page, "紧急程度") == "一般"
    agent, _ = site.signed_in("agent")
    page = agent.get(f"/tickets/{emergency.number}").text
    assert '<span class="badge urgency-emergency">特急</span>' in heading(page)


def test_the_address_is_shown_only_when_it_adds_to_the_place(site, session, people):
    same = make_ticket(session, people, Status.dispatched, address="夏县裴介镇朱吕村")
    part = make_ticket(session, people, Status.dispatched, address="朱吕村")
    more = make_ticket(session, people, Status.dispatched, address="朱吕村村东供水闸阀井")
    session.commit()
    client, _ = site.signed_in("handler_a")
    assert field(client.get(f"/tickets/{same.number}").text, "地点") == "夏县裴介镇朱吕村"
    assert field(client.get(f"/tickets/{part.number}").text, "地点") == "夏县裴介镇朱吕村"
    assert field(client.get(f"/tickets/{more.number}").text, "地点") == "夏县裴介镇朱吕村（朱吕村村东供水闸阀井）"


def test_place_text():
    assert place_text("夏县庙前镇张郭店村", "夏县庙前镇张郭店村") == "夏县庙前镇张郭店村"
    assert place_text("夏县庙前镇张郭店村", " 张郭店村 ") == "夏县庙前镇张郭店村"
    assert place_text("夏县庙前镇张郭店村", None) == "夏县庙前镇张郭店村"
    assert place_text("夏县庙前镇张郭店村", "夏县庙前镇张郭店村，村委会东50米") == "夏县庙前镇张郭店村（村委会东50米）"
    assert place_text("夏县裴介镇朱吕村", "村东供水闸阀井") == "夏县裴介镇朱吕村（村东供水闸阀井）"


def test_a_suspended_tickets_clock_reads_paused(site, session, people):
    ticket = make_ticket(session, people, Status.suspended)
    session.commit()
    client, _ = site.signed_in("handler_a")
    page = client.get(f"/tickets/{ticket.number}").text
    assert "已挂起" in heading(page) and "<td>反馈</td>" in page and "已暂停" in page and "已超期" not in page


def _status(site, number: str) -> Status:
    with site.db.transaction(write=False) as s:
        return s.scalar(select(Ticket.status).where(Ticket.number == number))


def test_after_a_bad_callback_the_ticket_page_offers_close_and_reopen(site, session, people):
    reopened = make_ticket(session, people, Status.callback_done)  # 未解决、不满意：「水还是时有时无」
    closed = make_ticket(session, people, Status.callback_done)
    session.commit()
    agent, csrf = site.signed_in("agent")
    # The callback queue lists them with the verdict and a link to the ticket page, where they are decided.
    queue = agent.get("/callbacks").text
    waiting = queue[queue.index("已回访，待办结或重办"):]
    assert "（2）" in waiting and "水还是时有时无" in waiting and "不满意" in waiting
    assert f'href="/tickets/{reopened.number}"' in waiting and f'href="/tickets/{closed.number}"' in waiting
    page = agent.get(f"/tickets/{reopened.number}").text
    assert "回访结果" in page and "未解决，不满意" in page and "水还是时有时无" in page
    assert f'action="/tickets/{reopened.number}/close"' in page and ">办结</button>" in page
    assert f'action="/tickets/{reopened.number}/reopen"' in page and ">重办</button>" in page
    for persona in ("supervisor", "handler_a"):  # the lifecycle lets neither close nor reopen
        other, _ = site.signed_in(persona)
        assert "/close" not in other.get(f"/tickets/{reopened.number}").text

    r = agent.post(f"/tickets/{reopened.number}/reopen", data={"csrf": csrf, "reason": "来电人说水压仍不稳定"})
    assert r.status_code == 303 and _status(site, reopened.number) == Status.dispatched
    page = agent.get(r.headers["location"]).text
    assert "工单已重办" in page and "<b>重办</b>" in page and "来电人说水压仍不稳定" in page
    assert "/reopen" not in page  # decided: the forms are gone

    dispatcher, csrf = site.signed_in("dispatcher")
    r = dispatcher.post(f"/tickets/{closed.number}/close", data={"csrf": csrf, "reason": ""})
    assert r.status_code == 422 and "说明直接办结的理由" in r.text and _status(site, closed.number) == Status.callback_done
    r = dispatcher.post(f"/tickets/{closed.number}/close", data={"csrf": csrf, "reason": "已现场核实供水正常"})
    assert r.status_code == 303 and _status(site, closed.number) == Status.closed
    assert "工单已办结" in dispatcher.get(r.headers["location"]).text
    assert "已回访，待办结或重办" not in agent.get("/callbacks").text  # both decided: the section is gone


def test_every_rounds_reply_stays_on_the_timeline(site, session, people):
    sent_back = make_ticket(session, people, Status.replied)  # 「已更换闸阀阀杆和减压阀，恢复供水」
    lifecycle.send_back_reply(session, sent_back, actor=people.dispatcher, reason="未说明水压是否恢复")
    lifecycle.reply(session, sent_back, actor=people.handler_a, text="已复测水压，0.3MPa，供水正常")
    reopened = make_ticket(session, people, Status.callback_done)
    lifecycle.reopen(session, reopened, actor=people.agent, reason="水还是时有时无")
    session.commit()
    client, _ = site.signed_in("dispatcher")
    page = client.get(f"/tickets/{sent_back.number}").text
    timeline = page[page.index("<h2>办理过程</h2>"):]
    assert "已更换闸阀阀杆和减压阀，恢复供水" in timeline and "已复测水压，0.3MPa，供水正常" in timeline
    page = client.get(f"/tickets/{reopened.number}").text
    assert "<h3>办理结果</h3>" not in page  # the new round has no reply yet ...
    assert "已更换闸阀阀杆和减压阀，恢复供水" in page[page.index("<h2>办理过程</h2>"):]  # ... the last one stays


def test_an_anonymous_caller_reads_as_such(site, session, people):
    ticket = make_ticket(session, people, Status.registered, caller_name=None, caller_phone=None,
                         caller_anonymous=True)
    session.commit()
    client, _ = site.signed_in("agent")
    assert field(client.get(f"/tickets/{ticket.number}").text, "来电人") == "匿名"


def test_a_merged_ticket_links_to_its_master(site, session, people):
    master = make_ticket(session, people, Status.registered)
    duplicate = make_ticket(session, people, Status.registered)
    lifecycle.merge(session, duplicate, actor=people.agent, master=master, note="同一问题多人反映，并入主工单办理")
    session.commit()
    client, _ = site.signed_in("agent")
    page = client.get(f"/tickets/{duplicate.number}").text
    assert f'并入主工单 <a href="/tickets/{master.number}">{master.number}</a>' in page
    page = client.get(f"/tickets/{master.number}").text
    assert f'重复工单 <a href="/tickets/{duplicate.number}">' in page[page.index("<h2>办理过程</h2>"):]


def _merge_card(html: str) -> str:
    start = html.index('<section class="card" id="merge">')
    return html[start:html.index("</section>", start)]


def test_a_ticket_registered_twice_is_merged_from_its_page(site, session, people):
    master = make_ticket(session, people, Status.accepted)
    duplicate = make_ticket(session, people, Status.dispatched)  # the same leak, registered again
    other = make_ticket(session, people, Status.registered)
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    card = _merge_card(dispatcher.get(f"/tickets/{duplicate.number}").text)
    # The duplicate detector offers the open tickets on the same problem, never the ticket itself.
    assert f'name="master" value="{master.number}"' in card and f'value="{duplicate.number}"' not in card
    assert ">并单</button>" in card

    r = dispatcher.post(f"/tickets/{duplicate.number}/merge", data={"csrf": csrf, "master": master.number})
    assert r.status_code == 422 and f"请勾选确认与 {master.number} 为同一问题" in r.text
    r = dispatcher.post(f"/tickets/{duplicate.number}/merge",
                        data={"csrf": csrf, "master_number": "20200101-999999", "confirm": "1"})
    assert r.status_code == 422 and "主工单 20200101-999999 不存在" in r.text
    assert _status(site, duplicate.number) == Status.dispatched
    r = dispatcher.post(f"/tickets/{duplicate.number}/merge",
                        data={"csrf": csrf, "master": master.number, "confirm": "1"})
    assert r.status_code == 303 and _status(site, duplicate.number) == Status.merged
    page = dispatcher.get(r.headers["location"]).text
    assert "工单已并入主工单" in page and f'并入主工单 <a href="/tickets/{master.number}">' in page
    assert 'id="merge"' not in page  # merged: nothing more to merge
    assert duplicate.number in dispatcher.get(f"/tickets/{master.number}").text
    handler, _ = site.signed_in("handler_a")  # the unit's task of the duplicate is withdrawn
    assert duplicate.number not in handler.get("/unit").text

    # An agent may type the master's number; a handler and a supervisor are offered nothing.
    agent, csrf = site.signed_in("agent")
    r = agent.post(f"/tickets/{other.number}/merge",
                   data={"csrf": csrf, "master": "", "master_number": master.number, "confirm": "1"})
    assert r.status_code == 303 and _status(site, other.number) == Status.merged
    fresh = make_ticket(session, people, Status.accepted)
    session.commit()
    for persona in ("handler_a", "supervisor"):
        client, token = site.signed_in(persona)
        assert 'id="merge"' not in client.get(f"/tickets/{fresh.number}").text
        r = client.post(f"/tickets/{fresh.number}/merge", data={"csrf": token, "master": master.number, "confirm": "1"})
        assert r.status_code == 403 and _status(site, fresh.number) == Status.accepted
    replied = make_ticket(session, people, Status.replied)  # past the statuses merge starts from
    session.commit()
    assert 'id="merge"' not in agent.get(f"/tickets/{replied.number}").text


def test_the_master_typed_on_the_ticket_page_is_read_as_people_type_it_and_never_overridden(site, session, people):
    """An offer picked and then another number typed is not merged into the offer silently; a number
    typed with full-width digits or without its hyphen is found; typing in the box picks its choice."""
    master = make_ticket(session, people, Status.accepted)
    other_master = make_ticket(session, people, Status.accepted)
    duplicate = make_ticket(session, people, Status.dispatched)
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    card = _merge_card(dispatcher.get(f"/tickets/{duplicate.number}").text)
    assert 'id="merge-typed"' in card and 'data-check="merge-typed"' in card
    r = dispatcher.post(f"/tickets/{duplicate.number}/merge", data={
        "csrf": csrf, "master": master.number, "master_number": other_master.number, "confirm": "1"})
    assert r.status_code == 422 and f"既选择了 {master.number} 又填写了主工单号 {other_master.number}" in r.text
    assert _status(site, duplicate.number) == Status.dispatched
    wide = other_master.number.replace("-", "").translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    r = dispatcher.post(f"/tickets/{duplicate.number}/merge",
                        data={"csrf": csrf, "master": "", "master_number": wide, "confirm": "1"})
    assert r.status_code == 303 and _status(site, duplicate.number) == Status.merged
    assert f'并入主工单 <a href="/tickets/{other_master.number}">' in dispatcher.get(r.headers["location"]).text


def _disposal_card(html: str) -> str:
    start = html.index('<section class="card" id="disposal">')
    return html[start:html.index("</section>", start)]


def test_a_registered_ticket_is_handed_off_or_refused_from_its_page(site, session, people):
    fire = make_ticket(session, people, Status.registered)
    refused = make_ticket(session, people, Status.registered)
    session.commit()
    agent, csrf = site.signed_in("agent")
    card = _disposal_card(agent.get(f"/tickets/{fire.number}").text)
    assert f'action="/tickets/{fire.number}/hand-off"' in card and '<option value="119" >119' in card
    assert f'action="/tickets/{fire.number}/refuse"' in card and ">不予受理</button>" in card

    # Nothing chosen, or no reason: refused (422), nothing moved, what was typed kept.
    r = agent.post(f"/tickets/{fire.number}/hand-off", data={"csrf": csrf, "to": "", "note": "已通报消防"})
    assert r.status_code == 422 and "请选择转往的应急部门" in r.text and 'value="已通报消防"' in r.text
    r = agent.post(f"/tickets/{refused.number}/refuse", data={"csrf": csrf, "reason": "  "})
    assert r.status_code == 422 and "不予受理理由" in r.text and _status(site, refused.number) == Status.registered
    r = agent.post(f"/tickets/{fire.number}/hand-off", data={"csrf": csrf, "to": "999", "note": "已通报"})
    assert r.status_code == 422 and 'value="已通报"' in r.text and _status(site, fire.number) == Status.registered

    r = agent.post(f"/tickets/{fire.number}/hand-off", data={"csrf": csrf, "to": "119", "note": "已告知来电人拨打 119"})
    assert r.status_code == 303 and _status(site, fire.number) == Status.handed_off
    page = agent.get(r.headers["location"]).text
    assert "工单已转应急部门" in page and "→ 119 消防" in page and "已转应急 119（消防）</span>" in page and "已告知来电人拨打 119" in page
    assert 'id="disposal"' not in page and 'id="merge"' not in page  # ended

    dispatcher, token = site.signed_in("dispatcher")
    r = dispatcher.post(f"/tickets/{refused.number}/refuse", data={"csrf": token, "reason": "属司法程序中的案件"})
    assert r.status_code == 303 and _status(site, refused.number) == Status.refused
    page = dispatcher.get(r.headers["location"]).text
    assert "工单已登记为不予受理" in page and "属司法程序中的案件" in page
    # The status changed meanwhile (the page was opened before): 409 saying so, nothing moved.
    r = agent.post(f"/tickets/{refused.number}/hand-off", data={"csrf": csrf, "to": "110"})
    assert r.status_code == 409 and "不能转应急部门" in r.text and _status(site, refused.number) == Status.refused

    # A handler and a supervisor are offered neither and refused; past 已登记 nothing is offered.
    fresh = make_ticket(session, people, Status.registered)
    dispatched = make_ticket(session, people, Status.dispatched)
    session.commit()
    for persona, refusal in (("handler_a", 404), ("supervisor", 403)):  # not yet the unit's ticket to see
        client, token = site.signed_in(persona)
        page = client.get(f"/tickets/{fresh.number}")
        assert page.status_code == refusal or 'id="disposal"' not in page.text
        r = client.post(f"/tickets/{fresh.number}/refuse", data={"csrf": token, "reason": "不属受理范围"})
        assert r.status_code == refusal and _status(site, fresh.number) == Status.registered
    assert 'id="disposal"' not in agent.get(f"/tickets/{dispatched.number}").text
    r = agent.post(f"/tickets/{dispatched.number}/refuse", data={"csrf": csrf, "reason": "不属受理范围"})
    assert r.status_code == 409 and _status(site, dispatched.number) == Status.dispatched


def oversight(html: str) -> str:
    """The 催办 / 督办 card of the ticket page, or "" when it is not offered."""
    start = html.find('id="oversight"')
    return html[start:html.index("</section>", start)] if start >= 0 else ""


def test_a_supervisor_urges_and_supervises_a_ticket_on_time_from_its_page(site, session, people):
    clock.freeze(clock.now())
    ticket = make_ticket(session, people, Status.accepted)  # nowhere near its deadline: not on the board
    session.commit()
    supervisor, csrf = site.signed_in("supervisor")
    card = oversight(supervisor.get(f"/tickets/{ticket.number}").text)
    assert "夏县水利局" in card and ">催办</button>" in card and ">下达督办单</button>" in card
    r = supervisor.post(f"/tickets/{ticket.number}/urge", data={"csrf": csrf, "note": "群众反映强烈"})
    assert r.status_code == 303 and r.headers["location"] == f"/tickets/{ticket.number}?urged=1"
    page = supervisor.get(r.headers["location"]).text
    assert "已催办，承办单位已收到通知。" in page and "群众反映强烈" in page
    # Urged within the hour: the card says when and by whom instead of offering a 催办 it would
    # refuse; one sent anyway (another tab) is refused as on the board, the card saying the same.
    urged = f"已催办 {clock.local(clock.now()):%H:%M}（{people.supervisor.display_name}）"
    card = oversight(page)
    assert urged in card and ">催办</button>" not in card and ">下达督办单</button>" in card
    r = supervisor.post(f"/tickets/{ticket.number}/urge", data={"csrf": csrf, "note": "再催一次"})
    assert r.status_code == 409 and "小时内不重复催办" in r.text and urged in oversight(r.text)
    r = supervisor.post(f"/tickets/{ticket.number}/supervise",
                        data={"csrf": csrf, "level": "key", "working_days": "3", "note": " "})
    assert r.status_code == 422 and "督办意见" in r.text
    assert '<option value="key" selected>' in oversight(r.text) and 'value="3"' in oversight(r.text)
    r = supervisor.post(f"/tickets/{ticket.number}/supervise",
                        data={"csrf": csrf, "level": "key", "working_days": "3", "note": "请三日内解决并答复"})
    assert r.status_code == 303
    page = supervisor.get(r.headers["location"]).text
    assert "已下达督办单" in page
    orders_card = page[page.index('id="orders"'):]
    assert "重点督办" in orders_card and "请三日内解决并答复" in orders_card and "待答复" in orders_card


def test_the_forms_are_offered_to_the_roles_the_policy_allows_on_tickets_a_unit_handles(site, session, people):
    open_ticket = make_ticket(session, people, Status.dispatched)
    waiting = make_ticket(session, people, Status.registered)
    closed = make_ticket(session, people, Status.closed)
    session.commit()
    dispatcher, csrf = site.signed_in("dispatcher")
    card = oversight(dispatcher.get(f"/tickets/{open_ticket.number}").text)
    assert ">催办</button>" in card and "下达督办单" not in card
    r = dispatcher.post(f"/tickets/{open_ticket.number}/supervise", data={"csrf": csrf, "note": "督办"})
    assert r.status_code == 403 and "无权" in r.text
    agent, _ = site.signed_in("agent")
    assert oversight(agent.get(f"/tickets/{open_ticket.number}").text) == ""
    supervisor, csrf = site.signed_in("supervisor")
    assert oversight(supervisor.get(f"/tickets/{waiting.number}").text) == ""
    assert oversight(supervisor.get(f"/tickets/{closed.number}").text) == ""
    r = supervisor.post(f"/tickets/{closed.number}/urge", data={"csrf": csrf})
    assert r.status_code == 409 and "不能催办" in r.text


def test_a_ticket_waiting_on_the_centre_says_so_instead_of_offering_a_urge(site, session, people):
    """The unit has replied: a 催办 would be refused (the centre's step is next), so the card says why."""
    replied = make_ticket(session, people, Status.replied)
    session.commit()
    supervisor, _ = site.signed_in("supervisor")
    card = oversight(supervisor.get(f"/tickets/{replied.number}").text)
    assert "正等待中心审核，不必催办" in card and ">催办</button>" not in card and ">下达督办单</button>" in card

"""The agent's intake page: register (and dispatch by the catalogue), errors keep what was typed,
the caller's earlier tickets and the region search."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hotline.accounts.models import Role
from hotline.tickets.models import Ticket
from hotline.tickets.states import Status
from hotline.web.render import NAV
from tests.builders import LEAK, ZHULV, make_ticket
from tests.knowledge.kb import reset_knowledge


def _form(csrf: str, **overrides: str) -> dict[str, str]:
    fields = {"csrf": csrf, "caller_phone": "13803590001", "caller_name": "张先生", "kind": "help",
              "category_code": "0103", "region": f"夏县裴介镇朱吕村（{ZHULV}）", "address": "村东供水闸阀井",
              "urgency": "urgent", "content": LEAK, "direct": "on"}
    fields.update(overrides)
    return fields


def _ticket(site, number: str) -> Ticket:
    with site.db.transaction(write=False) as s:
        ticket = s.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        s.expunge(ticket)
        return ticket


def test_the_agent_registers_the_leak_and_the_catalogue_dispatches_it_in_one_step(site, people):
    assert NAV[Role.agent][0] == ("/agent/intake", "受理")
    agent, csrf = site.signed_in("agent")
    form = agent.get("/agent/intake")
    assert form.status_code == 200 and "来电受理" in form.text and "按派单目录直接派单" in form.text
    assert 'value="供水管网漏水（0103）"' in form.text and "供水 › 供水管网漏水" in form.text
    r = agent.post("/agent/intake", data=_form(csrf))
    assert r.status_code == 200, r.text
    assert "工单已登记" in r.text and "已按派单目录派至 <b>夏县水利局</b>" in r.text
    number = re.search(r'href="/tickets/([0-9-]+)"><b>', r.text).group(1)
    assert "查询码" in r.text
    assert "张先生" not in r.text  # the form is empty again
    ticket = _ticket(site, number)
    assert ticket.status == Status.dispatched and ticket.lead_unit_id == people.unit_a
    assert ticket.region_code == ZHULV and ticket.caller_phone == "+8613803590001"
    # The ticket page shows it.
    assert "夏县水利局" in agent.get(f"/tickets/{number}").text


def test_without_the_box_the_ticket_is_only_registered_and_a_bare_code_or_label_is_accepted(site):
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_form(csrf, direct="", region=ZHULV))
    assert r.status_code == 200 and "工单已登记" in r.text and "派至" not in r.text
    number = re.search(r'href="/tickets/([0-9-]+)"><b>', r.text).group(1)
    assert _ticket(site, number).status == Status.registered
    r = agent.post("/agent/intake", data=_form(csrf, direct="", region="夏县裴介镇朱吕村",
                                               nearby_seen=number))  # the panel showed the first: not merged
    assert r.status_code == 200 and "工单已登记" in r.text


def test_a_refused_form_shows_the_error_and_keeps_everything_typed(site):
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_form(csrf, content="  ", anonymous="1"))
    assert r.status_code == 422
    assert 'class="error"' in r.text and "诉求内容" in r.text
    assert 'value="13803590001"' in r.text and 'value="张先生"' in r.text and 'value="村东供水闸阀井"' in r.text
    assert f'value="夏县裴介镇朱吕村（{ZHULV}）"' in r.text
    assert 'name="category_code" value="供水管网漏水（0103）"' in r.text
    assert re.search(r'<option value="urgent" selected>', r.text)
    assert re.search(r'name="anonymous" value="1" checked', r.text)
    assert "工单已登记" not in r.text
    r = agent.post("/agent/intake", data=_form(csrf, region="火星"))
    assert r.status_code == 422 and "找不到地点「火星」" in r.text and "供水闸阀井漏水" in r.text


@pytest.mark.parametrize("typed", ["裴介镇朱吕村", "朱吕村", "裴介镇 朱吕村"])
def test_a_place_typed_as_the_portal_accepts_it_is_registered_there(site, typed):
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_form(csrf, direct="", region=typed))
    assert r.status_code == 200 and "工单已登记" in r.text, r.text
    number = re.search(r'href="/tickets/([0-9-]+)"><b>', r.text).group(1)
    assert _ticket(site, number).region_code == ZHULV


def test_a_place_several_share_or_a_county_is_refused_with_the_places_to_choose(site, session, people):
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_form(csrf, region="王村"))
    assert r.status_code == 422 and "「王村」对应 3 处地点，请写明是哪一处" in r.text
    assert "夏县胡张乡王村" in r.text and "尧都区县底镇王村" in r.text and 'value="王村"' in r.text
    r = agent.post("/agent/intake", data=_form(csrf, region="夏县"))
    assert r.status_code == 422 and "「夏县」范围太大" in r.text and "夏县祁家河乡" in r.text
    r = agent.post("/agent/intake", data=_form(csrf, region="火星村"))
    assert r.status_code == 422 and "找不到地点「火星村」，请从下拉提示中选择乡镇或村" in r.text
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(Ticket)) is None
    # The panel of open tickets nearby reads the place the same way.
    earlier = make_ticket(session, people, Status.dispatched)
    session.commit()
    nearby = agent.get("/agent/nearby", params={"region": "朱吕村", "category_code": "0103", "content": LEAK})
    assert earlier.number in nearby.text


def test_the_callers_earlier_tickets_and_the_region_search(site, session, people):
    earlier = make_ticket(session, people)
    session.commit()
    agent, _ = site.signed_in("agent")
    r = agent.get("/agent/caller-history", params={"phone": "13803590001"})
    assert r.status_code == 200 and earlier.number in r.text and "共 1 件" in r.text
    r = agent.get("/agent/caller-history", params={"caller_phone": "13900000000"})
    assert "没有历史工单" in r.text
    r = agent.get("/agent/regions", params={"q": "朱吕"})
    assert r.status_code == 200 and f"夏县裴介镇朱吕村（{ZHULV}）" in r.text


def test_an_intake_post_without_its_csrf_token_is_refused(site):
    agent, csrf = site.signed_in("agent")
    data = _form(csrf)
    del data["csrf"]
    r = agent.post("/agent/intake", data=data)
    assert r.status_code == 403 and "页面已过期" in r.text


def test_a_handler_cannot_open_the_intake_page(site):
    handler, _ = site.signed_in("handler_a")
    assert handler.get("/agent/intake").status_code == 403


def test_the_village_picked_in_the_form_counts_as_named_so_its_open_outage_is_offered_before_the_next_villages(
        site, session, people):
    """QA: 朱吕村 picked, 停水, and a caller who never says where (家里没水了): the open 朱吕村 outage
    is offered first, not only 大吕村's told in words closer to the caller's."""
    said = "来电人反映裴介镇{}自今日早上起全村停水，水龙头不出水，至今未恢复供水，请供水站尽快查明原因。"
    dalv = make_ticket(session, people, Status.dispatched, category_code="0101", region_code="140828102201",
                       title="裴介镇大吕村停水", content=said.format("大吕村"))
    zhulv = make_ticket(session, people, Status.dispatched, category_code="0101", title="裴介镇朱吕村停水",
                        content=said.format("朱吕村"))
    session.commit()
    agent, _ = site.signed_in("agent")
    for content in ("家里没水了，一早上都没来水", "朱吕村停水了"):  # the place picked, or named too
        r = agent.get("/agent/nearby", params={"region": f"夏县裴介镇朱吕村（{ZHULV}）", "category_code": "0101",
                                               "content": content})
        assert r.status_code == 200 and zhulv.number in r.text, content
        assert r.text.index(zhulv.number) < (r.text.index(dalv.number) if dalv.number in r.text else len(r.text))
        assert "同村同类" in r.text


def test_an_open_ticket_on_the_same_problem_nearby_is_offered_and_the_new_call_merged_into_it(site, session, people):
    earlier = make_ticket(session, people, Status.dispatched)  # the leak at 朱吕村, registered before
    session.commit()
    agent, csrf = site.signed_in("agent")
    same_town = agent.get("/agent/nearby", params={"region": f"夏县裴介镇朱吕村（{ZHULV}）",
                                                   "category_code": "供水管网漏水（0103）",
                                                   "content": "村东闸阀井那里一直在漏水"})
    assert same_town.status_code == 200 and earlier.number in same_town.text and "同村同类" in same_town.text
    nothing_yet = agent.get("/agent/nearby", params={"region": "", "content": "漏水"})
    assert earlier.number not in nothing_yet.text and "选择诉求发生地" in nothing_yet.text
    other_county = agent.get("/agent/nearby", params={"region": "140802", "category_code": "0103"})
    assert earlier.number not in other_county.text
    r = agent.post("/agent/intake", data=_form(csrf, content="村东闸阀井那里一直在漏水，我是隔壁的", direct="on",
                                               merge_into=earlier.number))
    assert r.status_code == 200 and f"已并入 <a href=\"/tickets/{earlier.number}\"" in r.text
    number = re.search(r'href="/tickets/([0-9-]+)"><b>', r.text).group(1)
    merged = _ticket(site, number)
    assert merged.status == Status.merged and merged.master_id == earlier.id and merged.lead_unit_id is None
    assert number in agent.get(f"/tickets/{earlier.number}").text  # the master lists its duplicate


@pytest.fixture
def kb_site(site):
    reset_knowledge(site.db)
    yield site
    reset_knowledge(site.db, seed=False)


def test_a_refused_form_keeps_the_merge_target_chosen_and_the_panels_beside_it(kb_site, session, people):
    """A bad phone (or no phone nor name) sends the form back: the 并单 radio must still be on the
    ticket chosen, or fixing the phone and pressing Ctrl+Enter registers a duplicate unnoticed."""
    site = kb_site
    earlier = make_ticket(session, people, Status.dispatched)  # the leak at 朱吕村
    session.commit()
    agent, csrf = site.signed_in("agent")
    chosen = re.compile(rf'<input type="radio" name="merge_into" value="{earlier.number}" form="intake-form" checked>')
    for refused in ({"caller_phone": "1393590"}, {"caller_phone": "", "caller_name": ""}):
        r = agent.post("/agent/intake", data=_form(csrf, merge_into=earlier.number, **refused))
        assert r.status_code == 422 and 'class="error"' in r.text
        assert chosen.search(r.text), r.text
        assert not re.search(r'<input type="radio" name="merge_into" value="" form="intake-form" checked>', r.text)
        assert 'class="kb-hit"' in r.text and "供水管道漏水怎么报修" in r.text  # the answers being read stay
        # The caller's history loads again with the page when a phone was typed (htmx trigger "load").
        phone_input = re.search(r'<input name="caller_phone"[^>]*>', r.text).group(0)
        assert ('hx-trigger="load, ' in phone_input) == bool(refused["caller_phone"]), phone_input
    # Left alone, the form comes back with 不并单 chosen; a target no longer offered is not chosen.
    r = agent.post("/agent/intake", data=_form(csrf, caller_phone="1393590"))
    assert re.search(r'<input type="radio" name="merge_into" value="" form="intake-form" checked>', r.text)
    r = agent.get("/agent/nearby", params={"region": ZHULV, "category_code": "0103", "content": LEAK,
                                           "merge_into": "2020-0000001"})
    assert re.search(r'value="" form="intake-form" checked>', r.text) and earlier.number in r.text
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(Ticket).where(Ticket.id != earlier.id)) is None  # nothing registered


def _number(page: str) -> str:
    return re.search(r'href="/tickets/([0-9-]+)"><b>', page).group(1)


def _nothing_registered(site) -> None:
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(Ticket)) is None


def test_an_emergency_call_is_registered_and_handed_off_to_the_service_at_once(site):
    agent, csrf = site.signed_in("agent")
    form = agent.get("/agent/intake").text
    assert '<option value="119" >119 消防</option>' in form and "登记并转应急部门" in form
    assert re.search(r'<select name="handoff_to" id="f-handoff_to" data-key="e">', form)  # Alt+E
    note = "来电人称仓库起火，已告知拨打119，并电话通报县消防救援大队"
    r = agent.post("/agent/intake", data=_form(csrf, action="hand_off", handoff_to="119", handoff_note=note))
    assert r.status_code == 200, r.text
    assert "已转 <b>119（消防）</b>" in r.text and "派至" not in r.text
    ticket = _ticket(site, _number(r.text))
    assert ticket.status == Status.handed_off and ticket.handoff_to == "119" and ticket.lead_unit_id is None
    page = agent.get(f"/tickets/{ticket.number}").text
    assert note in page and "转应急部门" in page  # the timeline keeps the note


def test_a_hand_off_without_the_service_or_one_chosen_but_not_pressed_is_refused(site):
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_form(csrf, action="hand_off", handoff_to=""))
    assert r.status_code == 422 and "请选择转往的应急部门（110、119、120 或 122）" in r.text
    # 转往 chosen, then the plain 登记 pressed: not registered (and dispatched) as an ordinary call.
    r = agent.post("/agent/intake", data=_form(csrf, handoff_to="110", handoff_note="打架斗殴"))
    assert r.status_code == 422 and "已选择转 110，请按「登记并转应急部门」" in r.text
    assert '<option value="110" selected>' in r.text and 'value="打架斗殴"' in r.text
    _nothing_registered(site)


def test_a_call_outside_the_hotline_is_registered_as_refused_with_the_reason(site):
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_form(csrf, action="refuse", refusal_reason="  "))
    assert r.status_code == 422 and "不予受理理由不能为空" in r.text
    _nothing_registered(site)
    reason = "该事项已进入诉讼程序，依法不属热线受理范围，已告知来电人"
    r = agent.post("/agent/intake", data=_form(csrf, action="refuse", refusal_reason=reason))
    assert r.status_code == 200 and "已登记为<b>不予受理</b>" in r.text, r.text
    ticket = _ticket(site, _number(r.text))
    assert ticket.status == Status.refused and ticket.refusal_reason == reason and ticket.lead_unit_id is None


def test_an_empty_form_names_every_missing_field_at_once(site):
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_form(csrf, caller_phone="", caller_name="", category_code="", region="",
                                               content="", direct=""))
    assert r.status_code == 422
    for problem in ("非匿名诉求须留下来电人姓名或电话", "请选择事项分类", "请选择诉求发生地（乡镇或村）", "诉求内容不能为空"):
        assert problem in r.text, problem
    assert "有 4 处需要修改" in r.text
    assert 'name="category_code" value="" id="f-category_code" aria-invalid="true"' in r.text
    assert 'href="#intake-content"' in r.text
    # A bad phone and an unknown place are named together, too.
    r = agent.post("/agent/intake", data=_form(csrf, caller_phone="1393590", region="火星"))
    assert r.status_code == 422 and "有 2 处需要修改" in r.text and "找不到地点「火星」" in r.text
    _nothing_registered(site)


def test_a_confidential_callers_name_and_phone_are_hidden_from_the_handling_unit(site):
    agent, csrf = site.signed_in("agent")
    assert "保密（对承办单位隐藏姓名和电话）" in agent.get("/agent/intake").text
    r = agent.post("/agent/intake", data=_form(csrf, confidential="1", caller_name="李保密",
                                               caller_phone="13803590077"))
    assert r.status_code == 200 and "已按派单目录派至 <b>夏县水利局</b>" in r.text, r.text
    hidden = _number(r.text)
    assert _ticket(site, hidden).caller_confidential
    r = agent.post("/agent/intake", data=_form(csrf, caller_name="王公开", caller_phone="13803590088",
                                               nearby_seen=hidden))
    shown = _number(r.text)
    assert "李保密" in agent.get(f"/tickets/{hidden}").text  # hotline staff still see the caller
    handler, _ = site.signed_in("handler_a")
    page = handler.get(f"/tickets/{hidden}")
    assert page.status_code == 200 and hidden in page.text
    assert "李保密" not in page.text and "0077" not in page.text
    assert "王公开" in handler.get(f"/tickets/{shown}").text  # an ordinary caller is shown to the unit
    for listing in ("/unit", "/tickets"):
        text = handler.get(listing).text
        assert hidden in text and "李保密" not in text and "0077" not in text, listing


@pytest.mark.parametrize(("typed", "code"), [("漏水", "0103"), ("欠薪", "0801"), ("停电", "0201")])
def test_a_word_naming_one_category_as_the_placeholder_suggests_is_taken(site, typed, code):
    agent, csrf = site.signed_in("agent")
    assert 'placeholder="如：漏水、停电、欠薪"' in agent.get("/agent/intake").text
    r = agent.post("/agent/intake", data=_form(csrf, direct="", category_code=typed))
    assert r.status_code == 200 and "工单已登记" in r.text, r.text
    assert _ticket(site, _number(r.text)).category_code == code


def test_a_category_word_several_share_or_none_has_is_refused_by_name(site):
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_form(csrf, category_code="电"))
    assert r.status_code == 422 and "「电」对应" in r.text and "停电" in r.text and "电压不稳" in r.text
    r = agent.post("/agent/intake", data=_form(csrf, category_code="飞碟"))
    assert r.status_code == 422 and "未知事项分类「飞碟」" in r.text
    _nothing_registered(site)


def test_a_group_name_or_a_name_with_another_categorys_code_is_refused(site):
    """供水 names a group of four categories, not the one whose name holds it; 供水管网漏水（0104）
    pairs the leak's name with 水费与开户's code: neither is guessed."""
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_form(csrf, category_code="供水"))
    assert r.status_code == 422 and "「供水」对应" in r.text and "停水" in r.text and "供水管网漏水" in r.text
    r = agent.post("/agent/intake", data=_form(csrf, category_code="供水（01）"))  # the heading itself
    assert r.status_code == 422 and "事项分类 01「供水」是大类，请选择其下的具体分类" in r.text
    r = agent.post("/agent/intake", data=_form(csrf, category_code="供水管网漏水（0104）"))
    assert r.status_code == 422 and "「供水管网漏水（0104）」的名称与编号不符：0104 是「水费与开户」" in r.text
    _nothing_registered(site)
    r = agent.post("/agent/intake", data=_form(csrf, direct="", category_code="供水管网漏水（0103）"))
    assert r.status_code == 200 and _ticket(site, _number(r.text)).category_code == "0103"


def test_a_plain_register_sent_before_the_nearby_panel_showed_a_duplicate_comes_back_with_it(site):
    """Ctrl+Enter pressed as the place is typed, before 附近同类未办结工单 has answered: the call is
    not registered past the open ticket on the same problem; the form comes back with the panel
    offering it, and sent again (the panel seen) it is registered on its own, or merged if chosen."""
    agent, csrf = site.signed_in("agent")
    r = agent.post("/agent/intake", data=_form(csrf, direct=""))
    first = _number(r.text)
    with site.db.transaction(write=False) as s:
        before = s.scalar(select(func.count()).select_from(Ticket))
    for seen in (None, ""):  # no panel drawn yet (asked, 200), or drawn for a place with nothing nearby
        form = _form(csrf, caller_phone="13803590002", content="朱吕村村东供水闸阀井漏水，家里停水了") | (
            {} if seen is None else {"nearby_seen": seen})
        r = agent.post("/agent/intake", data=form)
        assert r.status_code == (200 if seen is None else 422)
        assert "附近有疑似同一问题的未办结工单，请确认是否并单后再登记" in r.text
        assert "工单已登记" not in r.text and f'name="merge_into" value="{first}"' in r.text
        assert f'name="nearby_seen" form="intake-form" value="{first}"' in r.text  # now shown
        assert 'value="13803590002"' in r.text  # everything typed kept
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == before
    r = agent.post("/agent/intake", data=form | {"nearby_seen": first})
    assert r.status_code == 200 and "工单已登记" in r.text and _number(r.text) != first
    r = agent.post("/agent/intake", data=_form(csrf, caller_phone="13803590003", merge_into=first))
    assert r.status_code == 200 and f"已并入 <a href=\"/tickets/{first}\"><b>{first}</b></a>" in r.text
    r = agent.post("/agent/intake", data=_form(csrf, caller_phone="13803590004", action="refuse",
                                               refusal_reason="重复来电，已在办理"))
    assert r.status_code == 200 and "不予受理" in r.text  # a disposal is no plain 登记: not held back


def test_a_form_without_the_panels_marker_is_asked_with_the_duplicates_listed_not_refused(site):
    """A plain 登记 from a form that never drew 附近同类未办结工单 (posted without JavaScript, or an
    older page: no ``nearby_seen`` at all) is a question, not an error: 200, the form again with
    everything typed, the open duplicate listed beside the notice with what to do, and the panel's
    choices; sent again as it comes back (不并单 chosen), the call is registered on its own."""
    agent, csrf = site.signed_in("agent")
    first = _number(agent.post("/agent/intake", data=_form(csrf, direct="")).text)
    form = _form(csrf, caller_phone="13803590009", caller_name="赵女士", address="村东闸阀井旁",
                 content="朱吕村村东供水闸阀井漏水，家里停水了", direct="")
    r = agent.post("/agent/intake", data=form)
    assert r.status_code == 200 and "工单已登记" not in r.text
    alert = r.text.split('id="form-errors"', 1)[1].split("</div>", 1)[0]
    assert "附近有疑似同一问题的未办结工单" in alert and f'href="/tickets/{first}"' in alert
    assert "本次尚未登记，填写的内容均已保留" in alert and "「不并单，单独登记」" in alert
    for typed in ('value="13803590009"', 'value="赵女士"', 'value="村东闸阀井旁"', "家里停水了"):
        assert typed in r.text, typed
    assert f'name="nearby_seen" form="intake-form" value="{first}"' in r.text
    assert re.search(r'name="merge_into" value="" form="intake-form" checked', r.text)
    r = agent.post("/agent/intake", data=form | {"nearby_seen": first, "merge_into": ""})
    assert r.status_code == 200 and "工单已登记" in r.text and _number(r.text) != first

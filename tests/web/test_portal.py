"""The citizen portal: submit without an account, follow the ticket with number + query code,
rate it when it waits for the callback; rate limits and the double-submit CSRF token."""

from __future__ import annotations

import re

import pytest

from hotline.directory import reference
from hotline.tickets.models import Channel, Ticket
from hotline.tickets.states import Status
from tests.builders import LEAK, ZHULV, make_ticket
from tests.web.conftest import csrf_of


def _form(client) -> str:
    r = client.get("/portal")
    assert r.status_code == 200
    assert 'name="viewport"' in r.text and "我要反映" in r.text and "退出" not in r.text
    assert "portal_csrf" in r.headers.get("set-cookie", "")
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    return csrf_of(r.text)


def _fields(csrf: str, **overrides: str) -> dict[str, str]:
    data = {"csrf": csrf, "caller_name": "李女士", "caller_phone": "13903590002", "kind": "help",
            "category_code": "0103", "region": ZHULV, "address": "朱吕村村东", "content": LEAK}
    data.update(overrides)
    return data


def _submit(client, data: dict[str, str]):
    """Post the form; a successful one answers 303 to the page showing the number and code once."""
    posted = client.post("/portal/submit", data=data)
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"] == "/portal/done"
    return client.get("/portal/done")


def _done(html: str) -> tuple[str, str]:
    number = re.search(r'id="number">([^<]+)<', html)
    code = re.search(r'id="query-code">(\d{6})<', html)
    assert number and code, html
    return number.group(1), code.group(1)


def _wrong_tries(site) -> int:
    """The wrong number/code attempts counted against the test client's address (in the database)."""
    from hotline.kit import ratelimit
    from hotline.web.routes import portal

    with site.db.transaction(write=False) as s:
        return ratelimit.count(s, portal.TRACK_FAIL, "testclient")


def test_a_citizen_submits_and_follows_the_request(site):
    client = site.browser()
    csrf = _form(client)
    r = _submit(client, _fields(csrf))
    assert r.status_code == 200, r.text
    assert "请记下工单号和查询码" in r.text
    number, code = _done(r.text)
    with site.db.transaction(write=False) as s:
        ticket = s.query(Ticket).filter_by(number=number).one()
        assert ticket.channel == Channel.web and ticket.registered_by_id is None
        assert ticket.caller_phone == "+8613903590002" and ticket.query_code == code

    page = client.post("/portal/track", data={"csrf": csrf, "number": number, "code": code})
    assert page.status_code == 200
    assert "已受理" in page.text and "受理" in page.text and LEAK in page.text


def test_reloading_the_success_page_files_nothing_and_shows_the_code_once(site):
    client = site.browser()
    csrf = _form(client)
    posted = client.post("/portal/submit", data=_fields(csrf))
    assert posted.status_code == 303 and posted.headers["location"] == "/portal/done"  # no code in the URL
    first = client.get("/portal/done")
    number, code = _done(first.text)
    assert first.headers["cache-control"] == "no-store"
    again = client.get("/portal/done")  # the reload
    assert again.status_code == 200 and "提交结果只显示一次" in again.text
    assert code not in again.text and 'id="query-code"' not in again.text
    stranger = site.browser()  # another browser later: nothing to see either
    assert code not in stranger.get("/portal/done").text
    with site.db.transaction(write=False) as s:
        assert s.query(Ticket).count() == 1 and s.query(Ticket).one().number == number
    page = client.post("/portal/track", data={"csrf": csrf, "number": number, "code": code})
    assert page.status_code == 200 and LEAK in page.text


def test_a_forged_success_cookie_shows_no_ticket_and_counts_as_a_failed_try(site, session, people):
    ticket = make_ticket(session, people)
    session.commit()
    client = site.browser()
    wrong = "000000" if ticket.query_code != "000000" else "111111"
    client.cookies.set("portal_done", f"{ticket.number}.{wrong}", path="/portal/done")
    r = client.get("/portal/done")
    assert r.status_code == 200 and ticket.number not in r.text and LEAK not in r.text
    assert _wrong_tries(site) == 1


@pytest.mark.parametrize(("number", "code"), [
    ("{fw_number}", "{fw_code}"),  # full-width digits and hyphen, as a Chinese IME types them
    ("{plain}", "{code}"),  # the 14 digits without the hyphen
    (" {number} ", "{spaced}"),
])
def test_a_number_or_code_typed_full_width_or_without_the_hyphen_is_found(site, session, people, number, code):
    ticket = make_ticket(session, people)
    session.commit()
    full = str.maketrans("0123456789-", "０１２３４５６７８９－")
    values = {"fw_number": ticket.number.translate(full), "fw_code": ticket.query_code.translate(full),
              "plain": ticket.number.replace("-", ""), "code": ticket.query_code, "number": ticket.number,
              "spaced": f"{ticket.query_code[:3]} {ticket.query_code[3:]}"}
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    page = client.post("/portal/track", data={"csrf": csrf, "number": number.format(**values),
                                              "code": code.format(**values)})
    assert page.status_code == 200 and f"工单 {ticket.number}" in page.text and LEAK in page.text
    assert _wrong_tries(site) == 0


def test_the_track_page_shows_citizen_terms_and_no_staff_names(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending)
    session.commit()
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    page = client.post("/portal/track", data={"csrf": csrf, "number": ticket.number, "code": ticket.query_code})
    assert page.status_code == 200
    text = page.text
    assert "派单至夏县水利局" in text and "已更换闸阀阀杆和减压阀，恢复供水" in text
    # Each step under its own heading: 签收, then the call to the caller, never 「办理中」 twice.
    progress = text.split("<h2>办理进度</h2>", 1)[1].split("</section>", 1)[0]
    headings = re.findall(r"<b>([^<]*)</b>", progress)
    assert headings[headings.index("派单至夏县水利局") + 1:][:2] == ["已签收", "已联系您"], headings
    assert all(a != b for a, b in zip(headings, headings[1:], strict=False)), headings
    assert "t-agent" not in text and "t-dispatcher" not in text and "t-handler-a" not in text
    assert "请对办理结果进行评价" in text


def test_a_wrong_code_or_number_gets_the_same_refusal(site, session, people):
    ticket = make_ticket(session, people)
    session.commit()
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    wrong_code = "000000" if ticket.query_code != "000000" else "111111"
    a = client.post("/portal/track", data={"csrf": csrf, "number": ticket.number, "code": wrong_code})
    b = client.post("/portal/track", data={"csrf": csrf, "number": "NOPE-1", "code": ticket.query_code})
    for r in (a, b):
        assert r.status_code == 404 and "工单号或查询码不正确" in r.text and LEAK not in r.text


def test_wrong_track_attempts_are_limited_per_ip(site, session, people):
    ticket = make_ticket(session, people)
    session.commit()
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    for _ in range(10):
        assert client.post("/portal/track", data={"csrf": csrf, "number": "X", "code": "123456"}).status_code == 404
    r = client.post("/portal/track", data={"csrf": csrf, "number": ticket.number, "code": ticket.query_code})
    assert r.status_code == 429 and "查询失败次数过多" in r.text


def test_missing_content_keeps_what_was_typed(site):
    client = site.browser()
    csrf = _form(client)
    r = client.post("/portal/submit", data=_fields(csrf, content="  ", address="朱吕村村东第三户"))
    assert r.status_code == 422
    assert 'class="error"' in r.text and "诉求内容" in r.text
    for kept in ("李女士", "13903590002", "朱吕村村东第三户", ZHULV):
        assert kept in r.text
    assert 'value="0103" selected' in r.text


def test_a_missing_phone_is_refused_in_chinese(site):
    client = site.browser()
    csrf = _form(client)
    r = client.post("/portal/submit", data=_fields(csrf, caller_phone=""))
    assert r.status_code == 422 and "请留下手机号码" in r.text and LEAK in r.text


def test_the_fourth_submission_of_a_phone_in_a_day_is_refused(site):
    client = site.browser()
    csrf = _form(client)
    for _ in range(3):
        assert _submit(client, _fields(csrf, caller_phone="13803590001")).status_code == 200
    r = client.post("/portal/submit", data=_fields(csrf, caller_phone="13803590001"))
    assert r.status_code == 429
    assert "该手机号码今天已提交 3 件诉求" in r.text and LEAK in r.text
    with site.db.transaction(write=False) as s:
        assert s.query(Ticket).filter_by(channel=Channel.web).count() == 3


def test_submissions_are_limited_per_ip(site):
    client = site.browser()
    csrf = _form(client)
    for i in range(5):
        phone = f"1390359000{i}"
        assert _submit(client, _fields(csrf, caller_phone=phone)).status_code == 200
    r = client.post("/portal/submit", data=_fields(csrf, caller_phone="13903590009"))
    assert r.status_code == 429 and "提交过于频繁" in r.text


def test_a_post_without_the_form_token_is_refused(site):
    client = site.browser()
    _form(client)  # the cookie is set, but the field is missing or wrong
    for data in (_fields(""), _fields("forged-token")):
        r = client.post("/portal/submit", data=data)
        assert r.status_code == 403 and "安全令牌" in r.text
    stranger = site.browser()  # no cookie at all, a token copied from elsewhere
    r = stranger.post("/portal/submit", data=_fields("forged-token"))
    assert r.status_code == 403
    with site.db.transaction(write=False) as s:
        assert s.query(Ticket).count() == 0


def test_rating_a_ticket_that_waits_for_its_callback(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending)
    session.commit()
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    base = {"csrf": csrf, "number": ticket.number, "code": ticket.query_code}
    r = client.post("/portal/rate", data=base | {"resolved": "yes", "comment": "来得很快"})
    assert r.status_code == 422 and "请选择满意程度" in r.text and "来得很快" in r.text
    r = client.post("/portal/rate", data=base | {"resolved": "yes", "satisfaction": "satisfied", "comment": "来得很快"})
    assert r.status_code == 303 and r.headers["location"] == "/portal/rated"
    r = client.get("/portal/rated")
    assert r.status_code == 200 and "感谢您的评价" in r.text and "已回访" in r.text
    assert "请对办理结果进行评价" not in r.text
    with site.db.transaction(write=False) as s:
        t = s.get(Ticket, ticket.id)
        assert t.status == Status.callback_done and t.resolved is True
        assert t.satisfaction.value == "satisfied" and t.callback_comment == "来得很快"
    reload = client.get("/portal/rated")  # reloading the result shows it again, not a refusal
    assert reload.status_code == 200 and "感谢您的评价" in reload.text and "无需评价" not in reload.text
    assert ticket.query_code not in reload.text
    assert "感谢您的评价" not in site.browser().get("/portal/rated").text  # not to another browser
    again = client.post("/portal/rate", data=base | {"resolved": "yes", "satisfaction": "satisfied"})
    assert again.status_code == 422 and "无需评价" in again.text


def test_rating_with_a_wrong_code_is_refused(site, session, people):
    ticket = make_ticket(session, people, Status.callback_pending)
    session.commit()
    client = site.browser()
    csrf = csrf_of(client.get("/portal/track").text)
    wrong = "000000" if ticket.query_code != "000000" else "111111"
    r = client.post("/portal/rate", data={"csrf": csrf, "number": ticket.number, "code": wrong,
                                          "resolved": "yes", "satisfaction": "satisfied"})
    assert r.status_code == 404 and "工单号或查询码不正确" in r.text
    with site.db.transaction(write=False) as s:
        assert s.get(Ticket, ticket.id).status == Status.callback_pending


# --- The location field: places typed the way people say them -------------------------------

def _region_of(site, number: str) -> str:
    with site.db.transaction(write=False) as s:
        return s.query(Ticket).filter_by(number=number).one().region_code


def _label_of(site, code: str) -> str:
    with site.db.transaction(write=False) as s:
        return reference.region_label(reference.snapshot(s), code)


def _field_error(html: str, name: str) -> str:
    found = re.search(rf'<span class="field-error" id="{name}-error">([^<]*)</span>', html)
    return found.group(1) if found else ""


def test_the_placeholder_example_is_accepted_as_typed(site):
    client = site.browser()
    page = client.get("/portal").text
    example = re.search(r'name="region"[^>]*placeholder="如：([^"]+)"', page).group(1)
    assert example == "裴介镇 朱吕村"
    r = _submit(client, _fields(csrf_of(page), region=example))
    assert r.status_code == 200, r.text
    number, _code = _done(r.text)
    assert _region_of(site, number) == ZHULV
    assert "发生地：夏县裴介镇朱吕村" in r.text


@pytest.mark.parametrize(("typed", "label"), [
    ("朱吕村", "夏县裴介镇朱吕村"),  # a village name unique in the region tree, without its township
    ("裴介，朱吕", "夏县裴介镇朱吕村"),  # short names, punctuation ignored
    (" 夏县 裴介镇 朱吕村 ", "夏县裴介镇朱吕村"),
    ("大渠街道", "盐湖区大渠街道"),  # a township of another county
    ("夏县 王村", "夏县胡张乡王村"),  # a shared name made unique by its county
])
def test_a_unique_place_name_is_accepted_without_the_rest_of_its_address(site, typed, label):
    client = site.browser()
    r = _submit(client, _fields(_form(client), region=typed))
    assert r.status_code == 200, r.text
    number, _code = _done(r.text)
    assert _label_of(site, _region_of(site, number)) == label


def test_an_ambiguous_name_is_answered_with_the_places_to_choose(site):
    client = site.browser()
    csrf = _form(client)
    r = client.post("/portal/submit", data=_fields(csrf, region="王村"))
    assert r.status_code == 422
    assert "「王村」对应 3 处地点，请写明是哪一处" in _field_error(r.text, "region")
    picks = re.findall(r'<input type="radio" name="region_pick" value="([^"]+)">', r.text)
    assert picks == ["夏县胡张乡王村", "尧都区乔李镇王村", "尧都区县底镇王村"]
    assert re.search(r'name="region" value="王村"', r.text)  # what was typed stays in the field
    for kept in ("李女士", "13903590002", "朱吕村村东", LEAK):
        assert kept in r.text
    with site.db.transaction(write=False) as s:
        assert s.query(Ticket).count() == 0

    r = _submit(client, _fields(csrf, region="王村", region_pick="夏县胡张乡王村"))
    assert r.status_code == 200, r.text
    number, _code = _done(r.text)
    assert _label_of(site, _region_of(site, number)) == "夏县胡张乡王村"


def test_a_place_not_found_or_too_broad_is_refused_by_the_field(site):
    client = site.browser()
    csrf = _form(client)
    r = client.post("/portal/submit", data=_fields(csrf, region="火星村"))
    assert r.status_code == 422
    assert _field_error(r.text, "region") == "找不到地点「火星村」，请从提示中选择乡镇或村"
    assert 'value="火星村"' in r.text
    r = client.post("/portal/submit", data=_fields(csrf, region="夏县"))
    assert r.status_code == 422
    assert _field_error(r.text, "region") == "「夏县」范围太大，请写明乡镇或村"
    assert 'name="region_pick" value="夏县裴介镇"' in r.text  # its townships to choose from
    with site.db.transaction(write=False) as s:
        assert s.query(Ticket).count() == 0


def test_every_problem_is_shown_at_once_by_its_field_with_what_was_typed(site):
    client = site.browser()
    csrf = _form(client)
    r = client.post("/portal/submit", data=_fields(csrf, caller_phone="12345", category_code="", region="火星村",
                                                   content=" ", address="村口老槐树下"))
    assert r.status_code == 422
    assert "有 4 处需要修改" in r.text
    assert "不是有效号码" in _field_error(r.text, "caller_phone")
    assert _field_error(r.text, "category_code") == "请选择事项分类"
    assert "找不到地点「火星村」" in _field_error(r.text, "region")
    assert _field_error(r.text, "content") == "诉求内容不能为空"
    assert _field_error(r.text, "caller_name") == "" and _field_error(r.text, "address") == ""
    assert 'id="f-caller_phone" name="caller_phone" value="12345"' in r.text
    for kept in ('value="李女士"', 'value="火星村"', 'value="村口老槐树下"'):
        assert kept in r.text
    assert 'aria-describedby="region-error"' in r.text
    with site.db.transaction(write=False) as s:
        assert s.query(Ticket).count() == 0


def test_every_required_field_is_marked(site):
    page = site.browser().get("/portal").text
    labels = dict(re.findall(r'<label for="f-(\w+)">(.*?)</label>', page))
    for required in ("caller_phone", "category_code", "region", "content"):
        assert "必填" in labels[required], required
    for optional in ("caller_name", "kind", "address"):
        assert "必填" not in labels[optional], optional


def test_the_place_hints_show_names_not_codes_and_cover_what_is_accepted(site):
    client = site.browser()
    page = client.get("/portal").text
    assert not re.search(r"\d{12}", page)  # no region codes, and no 186-entry list
    assert 'hx-get="/portal/regions"' in page and "/static/htmx.min.js" in page
    hints = client.get("/portal/regions", params={"region": "裴介镇 朱吕村"}).text
    assert "将登记为：<b>夏县裴介镇朱吕村</b>" in hints
    hints = client.get("/portal/regions", params={"region": "黎城县西井"}).text
    assert "将登记为：<b>黎城县西井镇</b>" in hints  # other counties too: what the form accepts
    hints = client.get("/portal/regions", params={"region": "王村"}).text
    assert "夏县胡张乡王村" in hints and "尧都区县底镇王村" in hints and "对应 3 处地点" in hints
    hints = client.get("/portal/regions", params={"region": "朱"}).text
    assert 'value="夏县裴介镇朱吕村"' in hints and "找不到地点「朱」" in hints
    many = client.get("/portal/regions", params={"region": "王"}).text  # 39 places: 8 offered, and counted
    assert many.count('name="region_pick"') == 8 and "以上仅列出前 8 个，共 39 个" in many
    assert "共" not in client.get("/portal/regions", params={"region": "夏县"}).text  # all 11 townships
    assert client.get("/portal/regions", params={"region": ""}).text.strip() == ""
    for text in (hints, client.post("/portal/submit", data=_fields(csrf_of(page), region="王村")).text):
        assert not re.search(r"\d{12}", text)


def test_the_pages_have_an_icon_and_favicon_ico_answers_it(site):
    client = site.browser()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")
    linked = client.get("/static/favicon.svg")
    assert linked.status_code == 200 and linked.content == icon.content
    for html in (client.get("/portal").text, client.get("/login").text):
        assert '<link rel="icon" href="/static/favicon.svg"' in html


def _recover(client, phone: str):
    csrf = csrf_of(client.get("/portal/recover").text)
    return client.post("/portal/recover", data={"csrf": csrf, "phone": phone})


def _recovery_sms(site) -> list:
    from sqlalchemy import select

    from hotline.notify.models import OutboxMessage

    with site.db.transaction(write=False) as s:
        return [(m.recipient, m.body) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.template_code == "caller.query_codes").order_by(OutboxMessage.id))]


def test_a_lost_query_code_is_sent_by_sms_and_the_page_says_the_same_for_any_number(site, session, people):
    """找回查询码 from the track page: the codes go by SMS to the number typed (the outbox), never on
    the page; a number without tickets gets no SMS and the very same answer, so the page tells a
    stranger nothing, not even whether the number has tickets."""
    ticket = make_ticket(session, people, caller_phone="13903590002")
    session.commit()
    client = site.browser()
    assert 'href="/portal/recover"' in client.get("/portal/track").text
    mine = _recover(client, "139 0359 0002")
    assert mine.status_code == 200 and "如该号码有工单，查询码已发送" in mine.text
    assert ticket.query_code not in mine.text and ticket.number not in mine.text
    ((to, body),) = _recovery_sms(site)
    assert to == "+8613903590002" and f"{ticket.number}（查询码{ticket.query_code}）" in body
    stranger = _recover(site.browser(), "13903590099")
    assert stranger.status_code == 200 and len(_recovery_sms(site)) == 1

    def said(r) -> str:
        return re.search(r'id="recover-sent">([^<]*)<', r.text).group(1)

    assert said(stranger) == said(mine)


def test_recovery_is_limited_per_phone_silently_and_per_network_openly(site, session, people):
    from hotline.notices import query_codes
    from hotline.web.routes import portal

    make_ticket(session, people, caller_phone="13903590002")
    session.commit()
    client = site.browser()
    # A number that cannot take an SMS is named as such, whatever it has (and counts for nothing).
    wrong = _recover(client, "0359-1234567")
    assert wrong.status_code == 422 and "请输入提交诉求时留下的手机号码" in wrong.text
    answers = [_recover(client, "13903590002") for _ in range(query_codes.PER_DAY + 1)]
    assert len(_recovery_sms(site)) == query_codes.PER_DAY  # the fourth sends nothing ...
    assert answers[-1].status_code == 200 and "如该号码有工单，查询码已发送" in answers[-1].text  # ... and says so not
    for _ in range(portal.RECOVER_LIMIT - len(answers)):
        assert _recover(client, "13903590088").status_code == 200
    refused = _recover(client, "13903590077")
    assert refused.status_code == 429 and "过于频繁" in refused.text and "已发送" not in refused.text

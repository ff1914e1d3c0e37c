"""System administration pages: users, failed messages, templates, rules, holidays; admins only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError

from hotline.accounts.models import Role, User
from hotline.directory.models import Holiday, HolidayYear, Setting
from hotline.notify.models import MessageState, MessageTemplate, OutboxMessage
from hotline.notify.outbox import enqueue
from hotline.notify.templates import load_templates
from hotline.web.routes import admin as admin_routes
from tests.builders import make_failed_messages, make_ticket

PHONE = "+8613803590001"


@pytest.fixture
def templates(site):
    with site.db.transaction() as s:
        load_templates(s)
    return site


def test_the_admin_sees_a_dead_message_and_sends_it_again(templates, people):
    site = templates
    with site.db.transaction() as s:
        ticket = make_ticket(s, people)
        m = enqueue(s, key="adm:receipt", channel="sms", recipient=PHONE, template_code="caller.receipt",
                    context={"ticket_number": ticket.number, "query_code": "482913"}, ticket_id=ticket.id)
        assert m is not None
        mid, number = m.id, ticket.number
        s.execute(update(OutboxMessage).where(OutboxMessage.id == mid)
                  .values(state=MessageState.dead, attempts=5, last_error="网关超时"))
    client, csrf = site.signed_in("admin")
    assert client.get("/").headers["location"] == "/admin"
    home = client.get("/admin").text
    assert "系统管理" in home and "1 条待处理" in home
    html = client.get("/admin/outbox").text
    assert "网关超时" in html and f"/tickets/{number}" in html and "*********0001" in html
    # the template named in words, its code small beside it
    assert '受理回执短信（来电人） <small class="muted"><code>caller.receipt</code></small>' in html
    assert PHONE not in html
    r = client.post("/admin/outbox/retry", data={"csrf": csrf})
    assert r.status_code == 422 and "请先勾选" in r.text
    r = client.post("/admin/outbox/retry", data={"csrf": csrf, "ids": str(mid)})
    assert r.status_code == 303
    assert "已重新放入发送队列 1 条消息" in client.get(r.headers["location"]).text
    with site.db.transaction(write=False) as s:
        assert s.get(OutboxMessage, mid).state == MessageState.pending
    assert "暂无发送失败的消息" in client.get("/admin/outbox").text


def test_a_template_with_an_unknown_placeholder_is_refused_and_the_old_text_kept(templates):
    site = templates
    with site.db.transaction(write=False) as s:
        old = s.get(MessageTemplate, "caller.receipt")
        old_subject, old_body = old.subject, old.body
    client, csrf = site.signed_in("admin")
    assert "caller.receipt" in client.get("/admin/templates").text
    typed = "您的工单{ticket_number}，密码{password}"
    r = client.post("/admin/templates/caller.receipt", data={"csrf": csrf, "subject": old_subject, "body": typed})
    assert r.status_code == 422 and "{password}" in r.text and "不可用" in r.text
    assert "您的工单{ticket_number}，密码{password}" in r.text  # what was typed is still in the form
    with site.db.transaction(write=False) as s:
        assert s.get(MessageTemplate, "caller.receipt").body == old_body
    new_body = "【12345】工单{ticket_number}已受理，查询码{query_code}。"
    r = client.post("/admin/templates/caller.receipt", data={"csrf": csrf, "subject": old_subject, "body": new_body})
    assert r.status_code == 303
    assert "已保存消息模板「受理回执短信（来电人）」（caller.receipt）" in client.get(r.headers["location"]).text
    with site.db.transaction(write=False) as s:
        assert s.get(MessageTemplate, "caller.receipt").body == new_body


def test_a_rule_out_of_range_is_refused_and_one_in_range_is_stored(site):
    client, csrf = site.signed_in("admin")
    html = client.get("/admin/settings").text
    assert "supervision.warn_share" in html and "到达时限的多少比例时预警" in html
    # each rule is named by its area in Chinese first; the key (the CLI's name) is the small print
    row = html[html.index("<tr>", html.index("<tbody>")):]
    row = row[:row.index("</tr>")]
    assert row.index("督办与预警") < row.index("<code>supervision.warn_share</code>")
    for area in ("回访", "考核", "充分就业村"):
        assert f"<td>{area}<br>" in html
    r = client.post("/admin/settings/supervision.warn_share", data={"csrf": csrf, "value": "1.5"})
    assert r.status_code == 422 and "须在 0.05–0.99 之间" in r.text and 'value="1.5"' in r.text
    with site.db.transaction(write=False) as s:
        assert s.get(Setting, "supervision.warn_share") is None
    r = client.post("/admin/settings/callback.max_attempts", data={"csrf": csrf, "value": "5"})
    assert r.status_code == 303 and "已设为 5" in client.get(r.headers["location"]).text
    r = client.post("/admin/settings/callback.max_attempts", data={"csrf": csrf, "reset": "1"})
    assert r.status_code == 303
    with site.db.transaction(write=False) as s:
        assert s.get(Setting, "callback.max_attempts") is None



def test_the_score_weights_cannot_all_be_set_to_zero(site):
    client, csrf = site.signed_in("admin")
    for key in ("weight_response", "weight_resolution"):
        assert client.post(f"/admin/settings/assessment.{key}", data={"csrf": csrf, "value": "0"}).status_code == 303
    r = client.post("/admin/settings/assessment.weight_satisfaction", data={"csrf": csrf, "value": "0"})
    assert r.status_code == 422 and "响应率、解决率、满意率三项权重不能都为 0" in r.text
    ranking = client.get("/analytics/assessment").text
    assert "响应率 × 0.0 + 解决率 × 0.0 + 满意率 × 0.35" in ranking


def test_a_changed_rule_is_named_in_chinese_with_a_plain_number(site):
    client, csrf = site.signed_in("admin")
    r = client.post("/admin/settings/assessment.weight_response", data={"csrf": csrf, "value": "1e-9"})
    assert r.status_code == 422 and "（综合得分中响应率的权重）须为 0 或不小于 0.01，收到 0.000000001" in r.text
    assert 'value="1e-9"' in r.text  # what was typed stays in the form
    r = client.post("/admin/settings/assessment.weight_response", data={"csrf": csrf, "value": "0.05"})
    notice = client.get(r.headers["location"]).text.split('class="notice" role="status">')[1].split("</p>")[0]
    assert notice == "「综合得分中响应率的权重」已设为 0.05"
    r = client.post("/admin/settings/assessment.weight_response", data={"csrf": csrf, "reset": "1"})
    notice = client.get(r.headers["location"]).text.split('class="notice" role="status">')[1].split("</p>")[0]
    assert notice == "「综合得分中响应率的权重」已恢复默认值 0.3"
    # a tiny value stored before this rule is shown as a number too, never as 1e-09
    with site.db.transaction() as s:
        s.add(Setting(key="assessment.weight_resolution", value=1e-9, updated_at=datetime.now(UTC)))
    page = client.get("/admin/settings").text
    assert "1e-09" not in page and "0.000000001" in page


def test_a_rule_of_the_wrong_kind_is_refused_in_words_not_type_names(site):
    client, csrf = site.signed_in("admin")
    for key, value, words in (
            ("callback.max_attempts", "abc", "规则 callback.max_attempts（回访联系不上的最多尝试次数）须为整数，收到「abc」"),
            ("supervision.warn_share", "0.5.5", "须为数字（如 0.8），收到「0.5.5」"),
            ("callback.after_max_attempts", "never", "只能取：以联系不上办结（close）、继续回访（keep）")):
        r = client.post(f"/admin/settings/{key}", data={"csrf": csrf, "value": value})
        error = r.text.split('class="error"')[1].split("</")[0]
        assert r.status_code == 422 and words in error, error
        assert not re.search(r"int|float|类型|'", error), error
    r = client.post("/admin/settings/callback.after_max_attempts", data={"csrf": csrf, "value": "keep"})
    assert "已设为 继续回访" in client.get(r.headers["location"]).text


def test_the_rules_page_shows_values_in_chinese_not_codes(site):
    client, csrf = site.signed_in("admin")
    page = client.get("/admin/settings").text
    row = page.split("<code>callback.reopen_on_negative</code>")[1].split("</tr>")[0]
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)[1:3]] == ["是", "是"]
    row = page.split("<code>callback.after_max_attempts</code>")[1].split("</tr>")[0]
    assert '<option value="close" selected>以联系不上办结</option>' in row and ">继续回访</option>" in row
    assert ">close<" not in row and "True" not in page
    r = client.post("/admin/settings/callback.after_max_attempts", data={"csrf": csrf, "value": "keep"})
    assert r.status_code == 303
    row = client.get("/admin/settings").text.split("<code>callback.after_max_attempts</code>")[1].split("</tr>")[0]
    assert "继续回访 <span class=\"badge\">已修改</span>" in row

def test_an_added_handler_signs_in_and_a_deactivated_one_cannot(site):
    client, csrf = site.signed_in("admin")
    form = {"csrf": csrf, "username": "wang-water", "display_name": "王工", "role": "handler",
            "unit_code": "", "phone": "13800000000", "password": "secret-pass-1"}
    r = client.post("/admin/users", data=form)
    assert r.status_code == 422 and "承办人必须绑定一个承办单位" in r.text and 'value="王工"' in r.text
    r = client.post("/admin/users", data={**form, "unit_code": "xiaxian-water"})
    assert r.status_code == 303 and "已添加用户 wang-water" in client.get(r.headers["location"]).text
    assert "夏县水利局" in client.get("/admin/users").text
    handler = site.browser()
    r = handler.post("/login", data={"username": "wang-water", "password": "secret-pass-1"})
    assert r.status_code == 303 and r.headers["location"] == "/unit"
    with site.db.transaction(write=False) as s:
        user = s.scalar(select(User).where(User.username == "wang-water"))
        assert user.role == Role.handler and user.phone == "13800000000"
        uid = user.id
    r = client.post(f"/admin/users/{uid}/active", data={"csrf": csrf, "active": "0"})
    assert r.status_code == 303 and "已停用用户 wang-water" in client.get(r.headers["location"]).text
    again = site.browser().post("/login", data={"username": "wang-water", "password": "secret-pass-1"})
    assert again.status_code != 303


def test_usernames_differing_only_in_case_are_one_name(site):
    client, csrf = site.signed_in("admin")
    form = {"csrf": csrf, "username": "qa-h1", "display_name": "测试", "role": "agent", "unit_code": "",
            "phone": "", "password": "secret-pass-1"}
    assert client.post("/admin/users", data=form).status_code == 303
    r = client.post("/admin/users", data={**form, "username": "QA-H1"})
    assert r.status_code == 422 and "用户名 QA-H1 已存在（已有用户 qa-h1，用户名不区分大小写）" in r.text
    with site.db.transaction(write=False) as s:
        assert list(s.scalars(select(User.username).where(User.username.in_(["qa-h1", "QA-H1"])))) == ["qa-h1"]
    # Typed with another case at sign-in, the name finds the one person.
    r = site.browser().post("/login", data={"username": "QA-H1", "password": "secret-pass-1"})
    assert r.status_code == 303 and r.headers["location"] == "/agent/intake"
    # The database refuses the pair too, whatever wrote it (two processes at once, a script).
    with pytest.raises(IntegrityError), site.db.transaction() as s:
        s.add(User(username="Qa-h1", display_name="测试", role=Role.agent, created_at=datetime.now(UTC)))


def test_a_refused_user_is_told_why_in_the_pages_words(site):
    client, csrf = site.signed_in("admin")
    form = {"csrf": csrf, "username": "qa-h2", "display_name": "测试", "role": "handler", "unit_code": "",
            "phone": "", "password": "secret-pass-1"}
    r = client.post("/admin/users", data=form)
    assert r.status_code == 422 and "承办人必须绑定一个承办单位" in r.text and "--unit" not in r.text
    r = client.post("/admin/users", data={**form, "role": "root"})
    assert r.status_code == 422 and "未知角色「root」，可选：坐席、派单员、承办人、督办员、管理员" in r.text
    assert "agent, dispatcher" not in r.text


def test_a_user_phone_and_username_are_checked(site):
    client, csrf = site.signed_in("admin")
    form = {"csrf": csrf, "username": "qa-h8", "display_name": "测试", "role": "agent", "unit_code": "",
            "phone": "abc", "password": "secret-pass-1"}
    r = client.post("/admin/users", data=form)
    assert r.status_code == 422 and "电话号码「abc」无法识别" in r.text and 'value="abc"' in r.text
    r = client.post("/admin/users", data={**form, "phone": "13803590001", "username": "qa h8"})
    assert r.status_code == 422 and "用户名「qa h8」无效：须为 1–60 个字母、数字或 - _ . " in r.text
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(User.id).where(User.username.in_(["qa-h8", "qa h8"]))) is None
    r = client.post("/admin/users", data={**form, "phone": "13803590001", "username": "qa_h8.x"})
    assert r.status_code == 303


def test_the_admin_enters_a_year_of_holidays(site):
    client, csrf = site.signed_in("admin")
    r = client.post("/admin/holidays", data={"csrf": csrf, "year": "2031", "days_off": "2031-01-01:元旦\n2031-13-01",
                                             "workdays": ""})
    assert r.status_code == 422 and "格式不对" in r.text and "2031-13-01" in r.text
    r = client.post("/admin/holidays", data={"csrf": csrf, "year": "2031",
                                             "days_off": "2031-01-01:元旦\n2031-01-30..2031-02-05:春节",
                                             "workdays": "2031-01-26:春节"})
    assert r.status_code == 303
    html = client.get(r.headers["location"]).text
    assert "2031 年节假日已录入" in html and "调休上班" in html
    with site.db.transaction(write=False) as s:
        assert s.get(HolidayYear, 2031) is not None
        assert len(list(s.scalars(select(Holiday).where(Holiday.day >= date(2031, 1, 1), Holiday.day <= date(2031, 12, 31))))) == 9
    # The year's page holds its entries in the form: one more day is added without retyping the year.
    form = re.search(r'<textarea name="days_off"[^>]*>([^<]*)</textarea>', html).group(1)
    assert form.split("\n") == ["2031-01-01:元旦", "2031-01-30..2031-02-05:春节"]
    assert re.search(r'<textarea name="workdays"[^>]*>([^<]*)</textarea>', html).group(1) == "2031-01-26:春节"
    r = client.post("/admin/holidays", data={"csrf": csrf, "year": "2031", "days_off": form + "\n2031-03-02:地方停工",
                                             "workdays": "2031-01-26:春节"})
    assert r.status_code == 303 and "在办工单的时限已按新的工作日重新计算" in client.get(r.headers["location"]).text
    with site.db.transaction(write=False) as s:
        assert len(list(s.scalars(select(Holiday).where(Holiday.day >= date(2031, 1, 1), Holiday.day <= date(2031, 12, 31))))) == 10


def test_a_mistyped_year_of_holidays_is_saved_only_when_confirmed(site):
    """春节 typed ..12-05 for ..02-05: ten months off would move every deadline; the admin is told
    what is odd and saves it only by confirming it is a real special arrangement."""
    client, csrf = site.signed_in("admin")
    form = {"csrf": csrf, "year": "2031", "days_off": "2031-01-01:元旦\n2031-01-30..2031-12-05:春节", "workdays": ""}
    r = client.post("/admin/holidays", data=form)
    assert r.status_code == 422
    assert "2031 年的安排不同寻常：工作日放假 223 天（历年最多 23 天）；从 2031-01-30 起连续休息 312 天" in r.text
    assert 'name="confirm_unusual"' in r.text and "2031-01-30..2031-12-05:春节" in r.text
    with site.db.transaction(write=False) as s:
        assert s.get(HolidayYear, 2031) is None
    assert 'name="confirm_unusual"' not in client.get("/admin/holidays").text  # offered only when needed
    r = client.post("/admin/holidays", data={**form, "confirm_unusual": "on"})
    assert r.status_code == 303
    with site.db.transaction(write=False) as s:
        assert s.get(HolidayYear, 2031) is not None


def test_a_dispatcher_is_refused_and_a_post_without_csrf_is_refused(site):
    dispatcher, csrf = site.signed_in("dispatcher")
    for path in ("/admin", "/admin/users", "/admin/outbox", "/admin/settings"):
        r = dispatcher.get(path)
        assert r.status_code == 403 and "只有管理员" in r.text
    assert dispatcher.post("/admin/settings/callback.max_attempts", data={"csrf": csrf, "value": "5"}).status_code == 403
    admin, _ = site.signed_in("admin")
    r = admin.post("/admin/settings/callback.max_attempts", data={"value": "5"})
    assert r.status_code == 403 and "页面已过期" in r.text
    with site.db.transaction(write=False) as s:
        assert s.get(Setting, "callback.max_attempts") is None


def test_the_admin_is_warned_to_enter_next_years_holidays_in_time(site):
    from datetime import datetime

    from hotline.kit import clock

    with site.db.transaction(write=False) as s:
        entered = {y for (y,) in s.execute(select(HolidayYear.year))}
    last = max(entered)  # the table ends here (the seeded years)
    client, csrf = site.signed_in("admin")
    clock.freeze(datetime(last, 6, 1, 9, 0))  # mid-year: nothing to say
    assert 'id="holiday-warning"' not in client.get("/admin").text
    clock.freeze(datetime(last, 11, 28, 9, 0))  # five weeks before the year the table lacks
    for path in ("/admin", "/admin/holidays"):
        warning = re.search(r'<p class="error" role="alert" id="holiday-warning">(.*?)</p>', client.get(path).text)
        assert warning and f"{last + 1}年节假日尚未录入" in warning.group(1), path
    client.post("/admin/holidays", data={"csrf": csrf, "year": str(last + 1),
                                         "days_off": f"{last + 1}-01-01:元旦", "workdays": ""})
    assert 'id="holiday-warning"' not in client.get("/admin").text
    clock.freeze(datetime(last + 2, 1, 5, 9, 0))  # a year already under way without its table
    client, _ = site.signed_in("admin")  # (the old session has expired by then)
    assert f"{last + 2}年节假日尚未录入" in client.get("/admin").text


def test_the_admin_edits_a_user_and_the_change_holds_on_the_users_next_request(site):
    admin, csrf = site.signed_in("admin")
    handler, _ = site.signed_in("handler_a")
    assert handler.get("/unit").status_code == 200 and handler.get("/supervision").status_code == 403
    uid = site.people.handler_a.id
    edit = admin.get(f"/admin/users?edit={uid}").text
    assert "修改用户" in edit and f'action="/admin/users/{uid}"' in edit and "重设密码" in edit
    form = {"csrf": csrf, "display_name": "王建国", "role": "supervisor", "unit_code": "xiaxian-water",
            "phone": "13803590009"}
    r = admin.post(f"/admin/users/{uid}", data=form)
    assert r.status_code == 422
    assert "所属单位：督办员是热线中心的岗位，只能属于热线中心或不选单位；夏县水利局是承办单位" in r.text
    assert 'value="王建国"' in r.text and 'value="13803590009"' in r.text  # what was typed is kept
    r = admin.post(f"/admin/users/{uid}", data={**form, "unit_code": "yuncheng-12345"})
    assert r.status_code == 303
    listed = admin.get(r.headers["location"]).text
    assert "已保存用户 t-handler-a（督办员）" in listed and "王建国" in listed
    with site.db.transaction(write=False) as s:
        user = s.get(User, uid)
        assert (user.role, user.display_name, user.phone) == (Role.supervisor, "王建国", "13803590009")
    # the same browser, without signing in again, is now a supervisor's
    assert handler.get("/supervision").status_code == 200


def test_the_admin_resets_a_password_with_the_creation_rules(site):
    admin, csrf = site.signed_in("admin")
    handler, _ = site.signed_in("handler_a")
    uid = site.people.handler_a.id
    r = admin.post(f"/admin/users/{uid}/password", data={"csrf": csrf, "password": "short"})
    assert r.status_code == 422 and "密码至少 8 位" in r.text and "修改用户" in r.text
    r = admin.post(f"/admin/users/{uid}/password", data={"csrf": csrf, "password": "new-secret-9"})
    assert r.status_code == 303
    assert "已重设用户 t-handler-a 的密码" in admin.get(r.headers["location"]).text
    assert handler.get("/unit").status_code == 303  # the old browser signs in again
    name = site.people.handler_a.username
    assert site.browser().post("/login", data={"username": name, "password": "new-secret-9"}).status_code == 303
    assert site.browser().post("/login", data={"username": name, "password": "correct horse 12345"}).status_code != 303
    # an admin resetting their own password stays signed in
    me = site.people.admin.id
    r = admin.post(f"/admin/users/{me}/password", data={"csrf": csrf, "password": "admin-secret-9"})
    assert r.status_code == 303 and admin.get("/admin/users").status_code == 200


def test_an_admin_cannot_demote_themselves(site):
    admin, csrf = site.signed_in("admin")
    r = admin.post(f"/admin/users/{site.people.admin.id}",
                   data={"csrf": csrf, "display_name": "管理员", "role": "agent", "unit_code": "", "phone": ""})
    assert r.status_code == 422 and "不能取消自己的管理员角色" in r.text
    assert admin.get("/admin/users").status_code == 200


def test_a_handler_bound_to_the_hotline_center_is_refused_in_the_page(site):
    admin, csrf = site.signed_in("admin")
    uid = site.people.handler_a.id
    r = admin.post(f"/admin/users/{uid}", data={"csrf": csrf, "display_name": "王工", "role": "handler",
                                                 "unit_code": "yuncheng-12345", "phone": ""})
    assert r.status_code == 422
    assert "所属单位：承办人必须绑定一个承办单位；运城市12345热线中心是热线中心，不承办工单" in r.text
    with site.db.transaction(write=False) as s:
        assert s.get(User, uid).unit_id == site.people.unit_a


def test_a_stopped_user_started_again_must_sign_in_again(site):
    admin, csrf = site.signed_in("admin")
    handler, _ = site.signed_in("handler_a")
    uid = site.people.handler_a.id
    assert handler.get("/unit").status_code == 200
    r = admin.post(f"/admin/users/{uid}/active", data={"csrf": csrf, "active": "0"})
    assert r.status_code == 303
    assert "已停用用户 t-handler-a；其已登录的浏览器已退出登录" in admin.get(r.headers["location"]).text
    r = admin.post(f"/admin/users/{uid}/active", data={"csrf": csrf, "active": "1"})
    assert r.status_code == 303 and "已启用用户 t-handler-a" in admin.get(r.headers["location"]).text
    assert handler.get("/unit").status_code == 303  # the old cookie does not come back to life
    r = admin.post(f"/admin/users/{site.people.admin.id}/active", data={"csrf": csrf, "active": "0"})
    assert r.status_code == 409 and "不能停用自己的账号" in r.text


def test_a_display_name_with_a_control_character_is_refused_not_a_server_error(site):
    admin, csrf = site.signed_in("admin")
    form = {"csrf": csrf, "username": "qa-nul", "display_name": "王\x00工", "role": "agent", "unit_code": "",
            "phone": "", "password": "secret-pass-1"}
    r = admin.post("/admin/users", data=form)
    assert r.status_code == 422 and "姓名含有不可见的控制字符（U+0000），请删除后重新填写" in r.text
    uid = site.people.agent.id
    r = admin.post(f"/admin/users/{uid}", data={"csrf": csrf, "display_name": "坐席\x1b", "role": "agent",
                                                 "unit_code": "", "phone": ""})
    assert r.status_code == 422 and "姓名含有不可见的控制字符（U+001B）" in r.text
    with site.db.transaction(write=False) as s:
        assert s.scalar(select(User.id).where(User.username == "qa-nul")) is None


def test_the_templates_page_names_each_template_in_words_with_its_code_beside_it(templates):
    client, _ = templates.signed_in("admin")
    html = client.get("/admin/templates").text
    assert "<h2>受理回执短信（来电人） <small><code>caller.receipt</code></small>" in html
    assert "<h2>派单通知（承办单位） <small><code>unit.dispatch</code></small>" in html
    assert "<h2>督办单逾期提醒（督办员） <small><code>supervisor.order_overdue</code></small>" in html


def test_a_template_leaving_out_a_placeholder_of_its_default_is_saved_only_when_confirmed(templates):
    """Without {query_code} the caller's receipt would carry no code to follow the ticket with."""
    site = templates
    with site.db.transaction(write=False) as s:
        old_body = s.get(MessageTemplate, "caller.receipt").body
    client, csrf = site.signed_in("admin")
    page = client.get("/admin/templates").text
    assert "删去默认文本中的占位符（如回执短信的查询码）需勾选确认后才能保存" in page
    assert 'name="confirm_dropped"' not in page
    typed = "【12345】您的诉求已受理，工单号{ticket_number}。"
    form = {"csrf": csrf, "subject": "诉求已受理", "body": typed}
    r = client.post("/admin/templates/caller.receipt", data=form)
    assert r.status_code == 422
    assert "模板删去了默认文本中的占位符 {query_code}（查询码）：发出的消息将不再包含这些内容" in r.text
    assert "确认删去占位符" in r.text and 'name="confirm_dropped"' in r.text and typed in r.text
    with site.db.transaction(write=False) as s:
        assert s.get(MessageTemplate, "caller.receipt").body == old_body
    r = client.post("/admin/templates/caller.receipt", data={**form, "body": "【12345】已受理。"})
    assert r.status_code == 422 and "{ticket_number}（工单号）、{query_code}（查询码）" in r.text
    r = client.post("/admin/templates/caller.receipt", data={**form, "confirm_dropped": "on"})
    assert r.status_code == 303
    with site.db.transaction(write=False) as s:
        assert s.get(MessageTemplate, "caller.receipt").body == typed
    # a placeholder moved from the body to the subject is kept, not dropped
    r = client.post("/admin/templates/unit.dispatch", data={
        "csrf": csrf, "subject": "新派工单", "body": "【12345】新派工单{ticket_number}：{title}，请于{deadline}前签收。"})
    assert r.status_code == 303


# ---------------------------------------------------------------- failed messages, more than a page

SHOWN_IDS = re.compile(r'name="ids" value="(\d+)"')


@contextmanager
def loaded_messages() -> Iterator[list[int]]:
    """The ids of the outbox rows read into objects while inside (every backend, every query)."""
    loaded: list[int] = []

    def on_load(target, _context) -> None:
        loaded.append(target.id)

    event.listen(OutboxMessage, "load", on_load)
    try:
        yield loaded
    finally:
        event.remove(OutboxMessage, "load", on_load)


def test_failed_messages_beyond_a_page_are_paged_newest_first_with_their_total(site):
    per_page = admin_routes.OUTBOX_PER_PAGE
    with site.db.transaction() as s:
        newest_first = make_failed_messages(s, per_page + 30, start=datetime(2026, 1, 10, tzinfo=UTC))
        s.execute(update(OutboxMessage).where(OutboxMessage.id == newest_first[0]).values(last_error="最新的失败"))
    with site.db.transaction() as s:  # a message still waiting is not among them, nor counted
        load_templates(s)
        enqueue(s, key="still-pending", channel="sms", recipient=PHONE, template_code="caller.receipt",
                context={"ticket_number": "20260110-000001", "query_code": "1"})
    client, csrf = site.signed_in("admin")
    assert f"{per_page + 30} 条待处理" in client.get("/admin").text
    first = client.get("/admin/outbox").text
    assert f"（{per_page + 30}）" in first and "第 1 / 2 页" in first and "最新的失败" in first
    assert [int(i) for i in SHOWN_IDS.findall(first)] == newest_first[:per_page]
    second = client.get("/admin/outbox?page_no=2").text
    assert f"（{per_page + 30}）" in second and "第 2 / 2 页" in second
    assert [int(i) for i in SHOWN_IDS.findall(second)] == newest_first[per_page:]
    # a page past the end (messages retried meanwhile) shows the last one
    assert SHOWN_IDS.findall(client.get("/admin/outbox?page_no=9").text) == SHOWN_IDS.findall(second)
    # nothing ticked on page 2: the same page comes back with the question
    r = client.post("/admin/outbox/retry", data={"csrf": csrf, "page_no": "2"})
    assert r.status_code == 422 and "请先勾选" in r.text
    assert [int(i) for i in SHOWN_IDS.findall(r.text)] == newest_first[per_page:]


def test_the_failed_messages_page_reads_only_the_rows_it_shows(site):
    per_page = admin_routes.OUTBOX_PER_PAGE
    with site.db.transaction() as s:
        newest_first = make_failed_messages(s, 3 * per_page, start=datetime(2026, 1, 10, tzinfo=UTC))
    client, _ = site.signed_in("admin")
    with loaded_messages() as loaded:
        assert client.get("/admin").status_code == 200
    assert loaded == []  # the home page counts them
    with loaded_messages() as loaded:
        assert client.get("/admin/outbox?page_no=2").status_code == 200
    assert loaded == newest_first[per_page:2 * per_page]

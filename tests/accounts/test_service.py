"""Accounts (``accounts.service``): an admin edits a user's name, role, unit and phone, and resets a
password with the rules of creation; a unit must mean something for the user's role."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hotline.accounts.models import ApiToken, Role, User, WebSession
from hotline.accounts.scope import scope_for
from hotline.accounts.service import (
    add_user,
    authenticate_key,
    create_token,
    edit_user,
    reset_password,
    set_active,
    verify_password,
)
from hotline.accounts.signin import Signed, current, sign_in
from hotline.kit.errors import Invalid, NotFound
from tests.builders import unit_id


def refused(match: str):
    return pytest.raises(Invalid, match=match)


def test_an_edited_handler_moves_to_another_unit_and_sees_that_units_tickets(session, people):
    user = edit_user(session, user_id=people.handler_a.id, display_name=" 王工 ", role="handler",
                     unit_code="xiaxian-housing", phone="13803590002")
    assert (user.display_name, user.role, user.unit_id, user.phone) == ("王工", Role.handler, people.unit_b,
                                                                       "13803590002")
    assert scope_for(user).unit_id == people.unit_b and not scope_for(user).all_tickets
    user = edit_user(session, user_id=user.id, display_name="王工", role="dispatcher", unit_code="yuncheng-12345",
                     phone="")
    assert scope_for(user).all_tickets and user.phone is None


def test_a_refused_edit_says_why_in_chinese(session, people):
    handler = people.handler_a.id
    same = dict(user_id=handler, display_name="王工", role="handler", unit_code="xiaxian-water", phone="")
    with refused("承办人必须绑定一个承办单位"):
        edit_user(session, **{**same, "unit_code": ""})
    with refused("请填写姓名"):
        edit_user(session, **{**same, "display_name": "  "})
    with refused("未知角色「root」，可选：坐席、派单员、承办人、督办员、管理员"):
        edit_user(session, **{**same, "role": "root"})
    with refused("未知单位编码 nobody"):
        edit_user(session, **{**same, "unit_code": "nobody"})
    with refused("电话号码「abc」无法识别"):
        edit_user(session, **{**same, "phone": "abc"})
    with pytest.raises(NotFound, match="用户 999999 不存在"):
        edit_user(session, **{**same, "user_id": 999999})


def test_a_center_role_cannot_be_bound_to_a_handling_unit(session, people):
    """A supervisor sees every ticket whatever their unit; bound to 夏县水利局, their 督办 would be
    shown as that bureau's: the unit is refused, the hotline center or none accepted."""
    words = "所属单位：督办员是热线中心的岗位，只能属于热线中心或不选单位；夏县水利局是承办单位"
    with refused(words):
        edit_user(session, user_id=people.supervisor.id, display_name="督办", role="supervisor",
                  unit_code="xiaxian-water", phone="")
    with refused(words):
        add_user(session, username="t-sup2", display_name="督办", role=Role.supervisor, unit_code="xiaxian-water")
    with refused("所属单位：坐席是热线中心的岗位"):  # a handler made an agent keeps no bureau
        edit_user(session, user_id=people.handler_a.id, display_name="王工", role="agent",
                  unit_code="xiaxian-water", phone="")
    for unit in ("yuncheng-12345", ""):
        user = edit_user(session, user_id=people.supervisor.id, display_name="督办", role="supervisor",
                         unit_code=unit, phone="")
        assert user.unit_id == (unit_id(session, unit) if unit else None)


def test_an_admin_cannot_take_the_admin_role_from_themselves(session, people):
    with refused("不能取消自己的管理员角色"):
        edit_user(session, user_id=people.admin.id, display_name="管理", role="agent", unit_code="", phone="",
                  by=people.admin)
    edit_user(session, user_id=people.admin.id, display_name="管理", role="admin", unit_code="", phone="",
              by=people.admin)


def test_a_password_reset_follows_the_creation_rules_and_signs_the_user_out_everywhere(session, people):
    handler = people.handler_a
    with refused("密码至少 8 位"):
        reset_password(session, user_id=handler.id, password="short")
    with refused("密码至少 8 位"):
        add_user(session, username="t-new", display_name="新人", role=Role.agent, password="short")
    with refused("密码过长"):
        reset_password(session, user_id=handler.id, password="x" * 129)
    reset_password(session, user_id=handler.id, password="first-pass-1")
    signed = [sign_in(session, handler.username, "first-pass-1") for _ in range(2)]
    assert all(isinstance(s, Signed) for s in signed)
    handler.failed_logins = 3
    reset_password(session, user_id=handler.id, password="second-pass-2", keep_session_id=None)
    assert verify_password(handler, "second-pass-2") and not verify_password(handler, "first-pass-1")
    assert handler.failed_logins == 0
    assert all(current(session, s.token) is None for s in signed)  # signed out of both browsers
    assert session.scalar(select(func.count()).select_from(WebSession).where(WebSession.user_id == handler.id)) == 0


def test_a_reset_of_ones_own_password_keeps_ones_own_browser(session, people):
    admin = people.admin
    reset_password(session, user_id=admin.id, password="admin-pass-1")
    here, there = sign_in(session, admin.username, "admin-pass-1"), sign_in(session, admin.username, "admin-pass-1")
    mine = session.scalar(select(WebSession.id).where(WebSession.user_id == admin.id).order_by(WebSession.id))
    reset_password(session, user_id=admin.id, password="admin-pass-2", keep_session_id=mine)
    assert current(session, here.token) is not None and current(session, there.token) is None
    assert session.get(User, admin.id).password_hash and verify_password(admin, "admin-pass-2")


def test_a_handler_cannot_be_bound_to_the_hotline_center(session, people):
    """The center is never dispatched a ticket: a handler bound to it would see none."""
    words = "所属单位：承办人必须绑定一个承办单位；运城市12345热线中心是热线中心，不承办工单"
    with refused(words):
        edit_user(session, user_id=people.handler_a.id, display_name="王工", role="handler",
                  unit_code="yuncheng-12345", phone="")
    with refused(words):
        add_user(session, username="t-h2", display_name="王工", role=Role.handler, unit_code="yuncheng-12345")
    with refused(words):  # an agent made a handler cannot keep the center
        edit_user(session, user_id=people.agent.id, display_name="坐席", role="handler",
                  unit_code="yuncheng-12345", phone="")
    assert session.get(User, people.handler_a.id).unit_id == people.unit_a


@pytest.mark.parametrize("name", ["王\x00工", "王\x1b[31m工", "王\t工", "王\n工", "\x7f王工"])
def test_a_display_name_with_a_control_character_is_refused_naming_it(session, people, name):
    bad = next(c for c in name if c in "\x00\x1b\t\n\x7f")
    words = f"^姓名含有不可见的控制字符（U\\+{ord(bad):04X}），请删除后重新填写$"
    with refused(words):
        add_user(session, username="t-ctl", display_name=name, role=Role.agent)
    with refused(words):
        edit_user(session, user_id=people.agent.id, display_name=name, role="agent", unit_code="", phone="")
    assert session.get(User, people.agent.id).display_name != name


def test_stopping_a_user_signs_them_out_so_starting_them_again_brings_no_old_browser_back(session, people):
    handler = people.handler_a
    reset_password(session, user_id=handler.id, password="first-pass-1")
    signed = sign_in(session, handler.username, "first-pass-1")
    assert isinstance(signed, Signed) and current(session, signed.token) is not None
    with refused("不能停用自己的账号"):
        set_active(session, user_id=people.admin.id, active=False, by=people.admin)
    set_active(session, user_id=handler.id, active=False, by=people.admin)
    assert session.scalar(select(func.count()).select_from(WebSession).where(WebSession.user_id == handler.id)) == 0
    assert set_active(session, user_id=handler.id, active=True, by=people.admin).active
    assert current(session, signed.token) is None  # the old cookie stays dead
    assert isinstance(sign_in(session, handler.username, "first-pass-1"), Signed)  # signing in again works


def test_a_key_names_its_account_and_itself_from_the_database_and_from_the_cache(session, people):
    """Open311 limits a client to the requests of its own key, so the key's id comes with its account,
    on the first call (read from the database) and on the next ones (the per-process cache) alike."""
    first, plain = create_token(session, username=people.agent.username, name="  city   app ")
    second, other = create_token(session, username="T-AGENT", name="partner-2")  # a username in any case
    assert first.name == "city app" and second.user_id == first.user_id
    for _ in range(2):
        a, b = authenticate_key(session, plain), authenticate_key(session, other)
        assert (a.user.id, a.token_id) == (people.agent.id, first.id) and b.token_id == second.id


@pytest.mark.parametrize(("name", "message"), [
    (" ", "请填写令牌用途"), ("长" * 81, "令牌用途最多 80 个字（收到 81 个）"), ("city\x00app", "用途含有不可见的控制字符"),
])
def test_a_token_without_a_fit_name_is_refused(session, people, name, message):
    with pytest.raises(Invalid) as refused:
        create_token(session, username=people.agent.username, name=name)
    assert message in refused.value.message
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_stopped_account_gets_no_token(session, people):
    set_active(session, user_id=people.agent.id, active=False, by=people.admin)
    with pytest.raises(Invalid, match="已停用，不能为其签发令牌"):
        create_token(session, username=people.agent.username, name="city-app")
    with pytest.raises(NotFound, match="用户 nobody 不存在"):
        create_token(session, username="nobody", name="city-app")

"""Open311 GeoReport v2: a partner system lists the services, submits a request that becomes a
ticket on the open311 channel, and follows it; only the requests sent with its own key are shown;
every bad input gets the specification's error list with a 4xx."""

from __future__ import annotations

from sqlalchemy import select, update

from hotline.accounts.models import ApiToken
from hotline.accounts.service import create_token
from hotline.tickets.models import Channel, Ticket
from tests.builders import LEAK, ZHULV

V2 = "/open311/v2"


def last_ticket(api, **where) -> Ticket | None:
    """Read (in a transaction of its own, as another process would) the newest ticket matching ``where``."""
    with api.db.transaction(write=False) as s:
        ticket = s.scalar(select(Ticket).filter_by(**where).order_by(Ticket.id.desc()).limit(1))
        if ticket is not None:
            s.expunge(ticket)
        return ticket


def problem(r, status: int) -> str:
    assert r.status_code == status, r.text
    [error] = r.json()
    assert error["code"] == status and error["description"]
    return error["description"]


def submit(api, key: str, **fields):
    form = {"api_key": key, "service_code": "0101", "description": LEAK, "address_string": "裴介镇 朱吕村",
            "first_name": "先生", "last_name": "张", "phone": "13803590001", **fields}
    return api.client.post(f"{V2}/requests.json", data=form)


def test_services_are_the_leaf_categories_grouped_by_their_heading(api):
    r = api.client.get(f"{V2}/services.json")
    assert r.status_code == 200
    services = {s["service_code"]: s for s in r.json()}
    assert services["0101"]["service_name"] == "停水" and services["0101"]["metadata"] is False
    assert services["0101"]["type"] == "realtime" and services["0101"]["group"]
    assert "01" not in services  # a heading is a group, not a service
    assert api.client.get(f"{V2}/services/0101.json").json() == {"service_code": "0101", "attributes": []}
    assert "0199" in problem(api.client.get(f"{V2}/services/0199.json"), 404)
    assert ".xml" in problem(api.client.get(f"{V2}/services.yaml"), 404)  # a format we do not write
    assert api.client.get(f"{V2}/discovery.json").json()["endpoints"][0]["url"].endswith("/open311/v2/")


def test_a_partner_submits_a_request_and_follows_it_to_its_end(api):
    key = api.tokens["agent"]
    r = submit(api, key, lat="35.14", long="111.22")
    assert r.status_code == 201, r.text
    [made] = r.json()
    number = made["service_request_id"]
    assert "夏县裴介镇朱吕村" in made["service_notice"] and number in made["service_notice"]
    ticket = last_ticket(api, number=number)
    assert ticket.channel == Channel.open311 and ticket.region_code == ZHULV
    assert ticket.registered_by_id == api.people.agent.id and ticket.caller_name == "张先生"
    assert (ticket.latitude, ticket.longitude) == (35.14, 111.22)
    # Staff see it like any ticket; the partner sees where it stands.
    assert api.as_("dispatcher").ticket(number)["channel"] == "open311"
    [seen] = api.client.get(f"{V2}/requests/{number}.json", params={"api_key": key}).json()
    assert seen["status"] == "open" and seen["status_notes"] == "已受理"
    assert seen["agency_responsible"] == "12345 热线" and seen["service_code"] == "0101"
    assert seen["address_id"] == ZHULV and seen["description"] == LEAK and seen["expected_datetime"] is None
    api.as_("dispatcher").do(number, "dispatch", lead_unit_id=api.people.unit_a)
    [seen] = api.client.get(f"{V2}/requests/{number}.json", params={"api_key": key}).json()
    assert seen["status"] == "open" and seen["status_notes"] == "待签收"
    assert seen["agency_responsible"] != "12345 热线" and seen["expected_datetime"]
    # Refused (not ours to handle): closed, with the reason.
    other = submit(api, key, description="咨询外省社保转移，本平台不予受理的测试").json()[0]["service_request_id"]
    api.as_("agent").do(other, "refuse", reason="不属于本热线受理范围")
    [seen] = api.client.get(f"{V2}/requests/{other}.json", params={"api_key": key}).json()
    assert seen["status"] == "closed" and "不属于本热线受理范围" in seen["status_notes"]
    # The list: both by default, by status, by ids.
    listed = lambda **q: [x["service_request_id"] for x in  # noqa: E731
                          api.client.get(f"{V2}/requests.json", params={"api_key": key, **q}).json()]
    assert set(listed()) == {number, other}
    assert listed(status="open") == [number] and listed(status="closed") == [other]
    assert set(listed(service_request_id=f"{number},{other}")) == {number, other}


def test_only_the_submitting_key_sees_its_requests(api):
    number = submit(api, api.tokens["agent"]).json()[0]["service_request_id"]
    stranger = api.tokens["dispatcher"]
    assert problem(api.client.get(f"{V2}/requests/{number}.json", params={"api_key": stranger}), 404) == (
        f"没有编号为 {number} 的请求（或不是用此 api_key 提交的）")
    assert api.client.get(f"{V2}/requests.json", params={"api_key": stranger}).json() == []
    assert "api_key" in problem(api.client.get(f"{V2}/requests.json"), 403)


def _listed(api, key: str) -> list[str]:
    r = api.client.get(f"{V2}/requests.json", params={"api_key": key})
    assert r.status_code == 200, r.text
    return [request["service_request_id"] for request in r.json()]


def test_two_partners_given_keys_of_one_account_see_only_their_own_requests(api):
    """Queries are limited per key: a second partner given a key of the same account sees neither
    the first one's requests in the list nor one of them asked for by number, and the other way round."""
    with api.db.transaction() as s:
        city_app = create_token(s, username=api.people.agent.username, name="city-app")[1]
        partner = create_token(s, username=api.people.agent.username, name="partner-2")[1]
    mine = submit(api, city_app).json()[0]["service_request_id"]
    theirs = submit(api, partner, description="小区门口路灯不亮").json()[0]["service_request_id"]
    assert _listed(api, city_app) == [mine] and _listed(api, partner) == [theirs]
    for key, other in ((city_app, theirs), (partner, mine)):
        assert "不是用此 api_key 提交的" in problem(
            api.client.get(f"{V2}/requests/{other}.json", params={"api_key": key}), 404)
    assert api.client.get(f"{V2}/requests/{mine}.xml", params={"api_key": city_app}).status_code == 200
    with api.db.transaction(write=False) as s:
        keys = dict(s.execute(select(Ticket.number, Ticket.api_token_id).where(Ticket.number.in_([mine, theirs]))).all())
        ids = dict(s.execute(select(ApiToken.prefix, ApiToken.id)).all())
    assert keys == {mine: ids[city_app[:10]], theirs: ids[partner[:10]]}


def test_requests_from_before_keys_were_recorded_stay_visible_to_every_key_of_the_account(api):
    """A ticket submitted before migration 0023 records no key (NULL): every key of the account that
    registered it still sees it, as all of them did before; another account's keys still do not."""
    old = submit(api, api.tokens["agent"]).json()[0]["service_request_id"]
    with api.db.transaction() as s:
        s.execute(update(Ticket).where(Ticket.number == old).values(api_token_id=None))
        second = create_token(s, username=api.people.agent.username, name="partner-2")[1]
    new = submit(api, second, description="小区门口路灯不亮").json()[0]["service_request_id"]
    assert set(_listed(api, second)) == {old, new} and _listed(api, api.tokens["agent"]) == [old]
    assert api.client.get(f"{V2}/requests/{old}.json", params={"api_key": second}).status_code == 200
    assert _listed(api, api.tokens["dispatcher"]) == []


def test_bad_requests_are_answered_with_the_reason_and_nothing_is_registered(api):
    key = api.tokens["agent"]
    before = last_ticket(api)
    assert "api_key" in problem(submit(api, ""), 403)
    assert "无效" in problem(submit(api, "not-a-key"), 403)
    assert "service_code" in problem(submit(api, key, service_code=""), 400)
    assert "9999" in problem(submit(api, key, service_code="9999"), 400)
    assert "01" in problem(submit(api, key, service_code="01"), 400)  # a heading is not a service
    assert "description" in problem(submit(api, key, description=" "), 400)
    assert "address_string" in problem(submit(api, key, address_string=""), 400)
    too_broad = problem(submit(api, key, address_string="夏县"), 400)
    assert "范围太大" in too_broad and "裴介镇" in too_broad
    assert "lat" in problem(submit(api, key, lat="91"), 400)
    assert "long" in problem(submit(api, key, long="east"), 400)
    assert "电话" in problem(submit(api, key, phone="12"), 400)
    r = api.client.post(f"{V2}/requests.json", content=b"\x00\x01", headers={"content-type": "application/json"})
    assert r.status_code in (400, 403)
    assert ".xml" in problem(api.client.post(f"{V2}/requests.csv", data={"api_key": key}), 404)
    assert "start_date" in problem(api.client.get(f"{V2}/requests.json", params={"api_key": key, "start_date": "x"}),
                                   400)
    assert "status" in problem(api.client.get(f"{V2}/requests.json", params={"api_key": key, "status": "done"}), 400)
    assert last_ticket(api) == before is None



def test_a_place_too_broad_lists_every_township_or_says_that_more_are_left_out(api):
    key = api.tokens["agent"]
    xia = problem(submit(api, key, address_string="夏县"), 400)  # its 11 townships, the last three too
    assert all(t in xia for t in ("夏县瑶峰镇", "夏县胡张乡", "夏县南大里乡", "夏县祁家河乡")) and "等" not in xia
    yaodu = problem(submit(api, key, address_string="尧都区"), 400)  # 25: the first ones, and how many
    assert yaodu.endswith("等 25 个）") and yaodu.count("、") == 7

def test_a_form_sent_as_raw_utf8_is_read_as_written(api):
    """``curl -d 'address_string=裴介镇 朱吕村'`` sends the bytes without percent-encoding them."""
    body = f"api_key={api.tokens['agent']}&service_code=0101&address_string=裴介镇朱吕村&description=停水了&phone=13803590001"
    r = api.client.post(f"{V2}/requests.json", content=body.encode("utf-8"),
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 201, r.text
    assert "夏县裴介镇朱吕村" in r.json()[0]["service_notice"]
    assert last_ticket(api, number=r.json()[0]["service_request_id"]).content == "停水了"


def test_a_partner_hears_of_the_public_notice_for_its_place_and_its_linked_request(api, session, people):
    from datetime import timedelta

    from hotline.incidents import public_notice, service
    from hotline.incidents.detect import detect
    from hotline.incidents.models import Incident
    from hotline.kit import clock
    from tests.incidents.test_detect import START, _burst

    _burst(session, people)
    clock.freeze(START + timedelta(minutes=65))
    detect(session)
    incident = session.scalars(select(Incident)).one()
    service.confirm(session, incident, actor=people.supervisor)
    text = "裴介镇朱吕村等4个村停水，供水站正在抢修，预计今晚恢复。"
    public_notice.publish(session, incident, actor=people.supervisor, text=text)
    session.commit()
    key = api.tokens["agent"]
    [made] = submit(api, key).json()  # 朱吕村, inside the incident's area
    assert f"该地区有公告（夏县裴介镇）：{text}" in made["service_notice"]
    [elsewhere] = submit(api, key, address_string="庙前镇").json()
    assert "公告" not in elsewhere["service_notice"]
    number = made["service_request_id"]
    [seen] = api.client.get(f"{V2}/requests/{number}.json", params={"api_key": key}).json()
    assert seen["service_notice"] == ""  # not linked yet: the notice may be about something else
    service.add_tickets(session, incident, actor=people.supervisor, numbers=[number])
    session.commit()
    [seen] = api.client.get(f"{V2}/requests.json", params={"api_key": key, "service_request_id": number}).json()
    assert seen["service_notice"] == f"相关公告：{text}"
    public_notice.withdraw(session, incident, actor=people.supervisor)
    session.commit()
    [seen] = api.client.get(f"{V2}/requests/{number}.json", params={"api_key": key}).json()
    assert seen["service_notice"] == ""


def test_every_refusal_under_open311_is_in_its_error_shape(api):
    """An address without its format, an unknown one, a method it does not take, a NUL in the query:
    each in Open311's ``[{"code", "description"}]`` (``<errors>`` for an ``.xml`` address), never the
    staff API's ``{"error": …}``."""
    key = api.tokens["agent"]
    number = submit(api, key).json()[0]["service_request_id"]
    assert ".json" in problem(api.client.get(f"{V2}/requests/{number}", params={"api_key": key}), 404)
    assert "接口不存在" in problem(api.client.get(f"{V2}/no-such-thing"), 404)
    assert problem(api.client.delete(f"{V2}/requests.json"), 405) == "不支持该请求方法"
    assert "空字符" in problem(api.client.get(f"{V2}/requests.json", params={"api_key": "\x00"}), 400)
    r = api.client.get(f"{V2}/no-such-thing.xml")
    assert r.status_code == 404 and r.headers["content-type"] == "text/xml; charset=utf-8"
    assert "<errors><error><code>404</code><description>接口不存在" in r.text
    assert api.client.get("/api/v1/no-such-thing").json()["error"]["code"] == "not_found"  # the staff API keeps its own


def test_a_form_over_1_mib_is_413_saying_so_and_nothing_is_registered(api):
    key = api.tokens["agent"]
    assert "请求体过大" in problem(submit(api, key, description="漏" * 117_000), 413)  # 1.05 MB percent-encoded
    r = api.client.post(f"{V2}/requests.json", data={"api_key": key, "service_code": "0101"},
                        files={"media": ("photo.jpg", b"\xff" * (1024 * 1024 + 1), "image/jpeg")})
    assert "请求体过大" in problem(r, 413)
    assert "诉求内容过长" in problem(submit(api, key, description="漏" * 5001), 400)  # under 1 MiB: the content's own limit
    assert last_ticket(api) is None


def test_a_form_value_not_utf8_is_refused_naming_the_field(api):
    key = api.tokens["agent"]
    body = f"api_key={key}&service_code=0101&address_string=%E6%9C%B1%E5%90%95%E6%9D%91&description=%FF%FE"
    r = api.client.post(f"{V2}/requests.json", content=body.encode(),
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert problem(r, 400).startswith("诉求内容（description）含有无效字符")
    assert last_ticket(api) is None
    # Percent-encoded UTF-8 and a multipart form are read as written.
    r = api.client.post(f"{V2}/requests.json", content=body.replace("%FF%FE", "%E5%81%9C%E6%B0%B4+%E4%BA%86").encode(),
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 201, r.text
    assert last_ticket(api, number=r.json()[0]["service_request_id"]).content == "停水 了"
    r = api.client.post(f"{V2}/requests.json", data={"api_key": key, "service_code": "0101", "description": "停水三天",
                                                     "address_string": "裴介镇朱吕村"},
                        files={"media": ("photo.jpg", b"\xff\xd8", "image/jpeg")})
    assert r.status_code == 201, r.text
    assert last_ticket(api, number=r.json()[0]["service_request_id"]).content == "停水三天"
    # A multipart form is held to UTF-8 too: GBK bytes are refused naming the field, not stored as
    # Latin-1 mojibake; a Latin letter written in UTF-8 is read as written.
    number = r.json()[0]["service_request_id"]
    r = api.client.post(f"{V2}/requests.json", data={"api_key": key, "service_code": "0101", "address_string": "裴介镇朱吕村"},
                        files={"description": (None, "停水三天".encode("gbk"))})
    assert problem(r, 400).startswith("诉求内容（description）含有无效字符")
    assert last_ticket(api).number == number
    r = api.client.post(f"{V2}/requests.json", data={"api_key": key, "service_code": "0101", "address_string": "裴介镇朱吕村"},
                        files={"description": (None, "café 门口停水".encode())})
    assert r.status_code == 201, r.text
    assert last_ticket(api, number=r.json()[0]["service_request_id"]).content == "café 门口停水"


def test_a_start_date_after_the_end_date_is_refused(api):
    key = api.tokens["agent"]
    number = submit(api, key).json()[0]["service_request_id"]
    day = f"{number[:4]}-{number[4:6]}-{number[6:8]}"
    description = problem(api.client.get(f"{V2}/requests.json", params={
        "api_key": key, "start_date": "2026-11-29T00:00:00+08:00", "end_date": "2026-11-28T00:00:00+08:00"}), 400)
    assert "start_date 须早于 end_date" in description
    same_day = api.client.get(f"{V2}/requests.json", params={"api_key": key, "start_date": day, "end_date": day})
    assert [x["service_request_id"] for x in same_day.json()] == [number]  # one day: from its start to its end


def test_a_field_sent_twice_with_different_values_is_refused_naming_it(api):
    key = api.tokens["agent"]
    base = f"api_key={key}&description=%E5%81%9C%E6%B0%B4&address_string=%E6%9C%B1%E5%90%95%E6%9D%91"
    form = {"content-type": "application/x-www-form-urlencoded"}
    r = api.client.post(f"{V2}/requests.json", content=f"{base}&service_code=0101&service_code=0102", headers=form)
    assert problem(r, 400) == "服务编码（service_code）出现了两次，取值不同（「0101」和「0102」）：每个字段只能填写一个值"
    r = api.client.post(f"{V2}/requests.json", content=f"{base}&description=%E6%BC%8F%E6%B0%B4", headers=form)
    assert "诉求内容（description）出现了两次" in problem(r, 400)
    assert last_ticket(api) is None
    r = api.client.post(f"{V2}/requests.json", content=f"{base}&service_code=0101&service_code=0101", headers=form)
    assert r.status_code == 201, r.text  # the same value twice says one thing
    r = api.client.get(f"{V2}/requests.json?api_key={key}&status=open&status=closed")
    assert "状态（status）出现了两次" in problem(r, 400)
    r = api.client.get(f"{V2}/requests.json?api_key={key}&api_key=hl_other")
    assert problem(r, 400) == "接入令牌（api_key）出现了两次，取值不同：每个字段只能填写一个值"  # the key not echoed

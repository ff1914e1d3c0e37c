"""Open311 GeoReport v2 in XML: a city client that speaks XML gets, at the ``.xml`` address of every
endpoint, the specification's elements carrying the same values the ``.json`` address gives; errors
are ``<errors><error>`` with the same HTTP status; Chinese and ``<``/``&`` come back as written."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from hotline.tickets.models import Channel
from tests.api.test_open311 import V2, last_ticket, submit
from tests.builders import LEAK, ZHULV

HEADER = '<?xml version="1.0" encoding="utf-8"?>'


def xml(r, status: int = 200) -> ET.Element:
    """The parsed document of an XML answer, after checking what every XML answer shares."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "text/xml; charset=utf-8"
    assert r.text.startswith(HEADER)
    return ET.fromstring(r.content)


def rows(root: ET.Element, tag: str, item: str) -> list[dict[str, str]]:
    """``<tag><item><field>text</field>…</item>…</tag>`` as one dict per item."""
    assert root.tag == tag
    assert all(child.tag == item for child in root)
    return [{field.tag: field.text or "" for field in child} for child in root]


def as_xml_text(value: Any) -> Any:
    """What a JSON value reads as in the XML: ``None`` an empty element, booleans ``true``/``false``."""
    if isinstance(value, dict):
        return {k: as_xml_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_xml_text(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def error(r, status: int) -> str:
    """The description of an XML error, checked to say what the JSON error of the same call says."""
    [only] = rows(xml(r, status), "errors", "error")
    assert only["code"] == str(status) and only["description"]
    return only["description"]


def submit_xml(api, key: str, **fields):
    form = {"api_key": key, "service_code": "0101", "description": LEAK, "address_string": "裴介镇 朱吕村",
            "first_name": "先生", "last_name": "张", "phone": "13803590001", **fields}
    return api.client.post(f"{V2}/requests.xml", data=form)


def test_services_in_xml_are_the_json_services(api):
    root = xml(api.client.get(f"{V2}/services.xml"))
    services = rows(root, "services", "service")
    assert services == as_xml_text(api.client.get(f"{V2}/services.json").json())
    zero_one = next(s for s in services if s["service_code"] == "0101")
    assert zero_one["service_name"] == "停水" and zero_one["metadata"] == "false" and zero_one["group"] == "供水"
    definition = xml(api.client.get(f"{V2}/services/0101.xml"))
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "0101"
    assert definition.find("attributes") is not None and len(definition.find("attributes")) == 0
    discovery = xml(api.client.get(f"{V2}/discovery.xml"))
    assert [f.text for f in discovery.iterfind("endpoints/endpoint/formats/format")] == ["application/json",
                                                                                        "text/xml"]


def test_a_request_posted_in_xml_is_registered_and_read_back_in_both_formats(api):
    key = api.tokens["agent"]
    r = submit_xml(api, key, description="阀门井<3号>漏水 & 停水", lat="35.14", long="111.22")
    [made] = rows(xml(r, 201), "service_requests", "request")
    assert list(made) == ["service_request_id", "service_notice", "account_id"] and made["account_id"] == ""
    number = made["service_request_id"]
    assert number in made["service_notice"] and "夏县裴介镇朱吕村" in made["service_notice"]
    ticket = last_ticket(api, number=number)
    assert ticket.channel == Channel.open311 and ticket.region_code == ZHULV and ticket.caller_name == "张先生"
    assert ticket.content == "阀门井<3号>漏水 & 停水"
    # The special characters travel escaped, and read back as written.
    got = api.client.get(f"{V2}/requests/{number}.xml", params={"api_key": key})
    assert "阀门井&lt;3号&gt;漏水 &amp; 停水" in got.text
    [seen] = rows(xml(got), "service_requests", "request")
    assert seen["description"] == "阀门井<3号>漏水 & 停水" and seen["status_notes"] == "已受理"
    assert seen["lat"] == "35.14" and seen["expected_datetime"] == "" and seen["address_id"] == ZHULV
    assert [seen] == as_xml_text(api.client.get(f"{V2}/requests/{number}.json", params={"api_key": key}).json())
    # Dispatched: the same W3C datetimes in both formats.
    api.as_("dispatcher").do(number, "dispatch", lead_unit_id=api.people.unit_a)
    [seen] = rows(xml(api.client.get(f"{V2}/requests/{number}.xml", params={"api_key": key})),
                  "service_requests", "request")
    [as_json] = api.client.get(f"{V2}/requests/{number}.json", params={"api_key": key}).json()
    assert seen["expected_datetime"] == as_json["expected_datetime"] and seen["expected_datetime"].endswith("+08:00")
    assert seen == as_xml_text(as_json) and seen["agency_responsible"] != "12345 热线"


def test_the_list_in_xml_filters_as_the_json_list_does(api):
    key = api.tokens["agent"]
    first = rows(xml(submit_xml(api, key), 201), "service_requests", "request")[0]["service_request_id"]
    other = rows(xml(submit_xml(api, key, service_code="0102", description="水是黄的，有异味"), 201),
                 "service_requests", "request")[0]["service_request_id"]
    api.as_("agent").do(other, "refuse", reason="不属于本热线受理范围")

    def both(**query: str) -> list[str]:
        params = {"api_key": key, **query}
        listed = rows(xml(api.client.get(f"{V2}/requests.xml", params=params)), "service_requests", "request")
        assert listed == as_xml_text(api.client.get(f"{V2}/requests.json", params=params).json())
        return [x["service_request_id"] for x in listed]

    assert set(both()) == {first, other}
    assert both(status="open") == [first] and both(status="closed") == [other]
    assert both(service_code="0102") == [other]
    assert both(service_request_id=first) == [first]
    assert both(start_date="2000-01-01", end_date="2000-01-02") == []
    # Another account's key sees none of them: an empty list is an empty root element.
    empty = xml(api.client.get(f"{V2}/requests.xml", params={"api_key": api.tokens["dispatcher"]}))
    assert empty.tag == "service_requests" and len(empty) == 0


def test_errors_in_xml_say_what_the_json_errors_say_with_the_same_status(api):
    key = api.tokens["agent"]
    before = last_ticket(api)
    for fields, status, words in [({"service_code": "9999"}, 400, "9999"),
                                  ({"address_string": "王村"}, 400, "尧都区乔李镇王村"),  # three 王村
                                  ({"api_key": "not-a-key"}, 403, "无效")]:
        said = error(submit_xml(api, key, **fields), status)
        assert words in said
        as_json = api.client.post(f"{V2}/requests.json", data={
            "api_key": key, "service_code": "0101", "description": LEAK, "address_string": "裴介镇 朱吕村", **fields})
        assert as_json.status_code == status and as_json.json() == [{"code": status, "description": said}]
    assert last_ticket(api) == before is None
    assert "0199" in error(api.client.get(f"{V2}/services/0199.xml"), 404)
    assert "api_key" in error(api.client.get(f"{V2}/requests/20261129-000001.xml", params={"api_key": key}), 404)
    assert "status" in error(api.client.get(f"{V2}/requests.xml", params={"api_key": key, "status": "done"}), 400)
    # A format that is neither: a 404 saying which ones there are, not a 500.
    r = api.client.get(f"{V2}/requests.html", params={"api_key": key})
    assert r.status_code == 404 and ".xml" in r.json()[0]["description"]


def test_a_character_xml_cannot_carry_does_not_break_the_document(api):
    """A control character (a stray BEL pasted into a description) has no place in XML 1.0: the
    document stays well-formed, the character read as U+FFFD; the JSON keeps it."""
    key = api.tokens["agent"]
    number = submit(api, key, description="停水\x07三天了").json()[0]["service_request_id"]
    [seen] = rows(xml(api.client.get(f"{V2}/requests/{number}.xml", params={"api_key": key})),
                  "service_requests", "request")
    assert seen["description"] == "停水\ufffd三天了"

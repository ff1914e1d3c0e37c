"""Operating rules through the API: supervisors and admins read them, admins change and reset them."""

from __future__ import annotations

import pytest

from hotline.directory import reference
from hotline.directory.settings import RULES
from tests.api.conftest import Api

WARN = "supervision.warn_share"


def _rule(api: Api, key: str, persona: str = "admin") -> dict:
    r = api.as_(persona).get("/settings")
    assert r.status_code == 200, r.text
    return next(rule for rule in r.json() if rule["key"] == key)


def _put(api: Api, key: str, value, persona: str = "admin"):
    return api.as_(persona).request("PUT", f"/settings/{key}", json={"value": value})


@pytest.mark.parametrize("persona", ["supervisor", "admin"])
def test_supervisors_and_admins_read_every_rule_with_its_range(api: Api, persona: str):
    rules = api.as_(persona).get("/settings").json()
    assert [r["key"] for r in rules] == list(RULES)
    warn = next(r for r in rules if r["key"] == WARN)
    assert warn == {"key": WARN, "value": 0.8, "default": 0.8, "label": RULES[WARN].label, "type": "float",
                    "min": 0.05, "max": 0.99, "choices": None, "customized": False,
                    "choice_labels": None}
    after = next(r for r in rules if r["key"] == "callback.after_max_attempts")
    assert after["choices"] == ["close", "keep"] and after["value"] == "close"
    assert after["choice_labels"] == {"close": "以联系不上办结", "keep": "继续回访"}


@pytest.mark.parametrize("persona", ["agent", "dispatcher", "handler_a"])
def test_other_staff_cannot_read_the_rules(api: Api, persona: str):
    r = api.as_(persona).get("/settings")
    assert r.status_code == 403 and "督办员和管理员" in r.json()["error"]["message"]


def test_an_admin_changes_a_rule_and_the_sweeps_see_it(api: Api):
    r = _put(api, WARN, 0.75)
    assert r.status_code == 200, r.text
    assert (r.json()["value"], r.json()["customized"]) == (0.75, True)
    assert _rule(api, WARN, "supervisor")["value"] == 0.75
    with api.db.transaction(write=False) as s:
        assert reference.snapshot(s).rules[WARN] == 0.75
    assert _put(api, "callback.reopen_on_negative", False).json()["value"] is False
    assert _put(api, "callback.after_max_attempts", "keep").json()["value"] == "keep"
    assert _put(api, "callback.max_attempts", "5").json()["value"] == 5  # text that is a number is fine


@pytest.mark.parametrize(("key", "value", "named"), [
    (WARN, 1.5, "0.05–0.99"),
    (WARN, "八成", "须为数字（如 0.8），收到「八成」"),
    ("callback.max_attempts", 0, "1–10"),
    ("callback.max_attempts", 2.5, "须为整数，收到「2.5」"),
    ("callback.after_max_attempts", "maybe", "只能取：以联系不上办结（close）、继续回访（keep）"),
    ("callback.reopen_on_negative", "maybe", "须为是或否（true/false）"),
    ("callback.max_attempts", None, "须为整数，收到（空）"),
])
def test_a_value_out_of_range_is_refused_and_the_old_value_stays(api: Api, key: str, value, named: str):
    before = _rule(api, key)["value"]
    r = _put(api, key, value)
    assert r.status_code == 422, r.text
    assert named in r.json()["error"]["message"] and key in r.json()["error"]["message"]
    assert _rule(api, key)["value"] == before


def test_an_unknown_rule_is_404_and_a_value_is_required(api: Api):
    r = _put(api, "supervision.nap_minutes", 5)
    assert r.status_code == 404 and WARN in r.json()["error"]["message"]  # lists the rules there are
    assert api.as_("admin").request("DELETE", "/settings/supervision.nap_minutes").status_code == 404
    r = api.as_("admin").request("PUT", f"/settings/{WARN}", json={})
    assert r.status_code == 422 and "value" in r.json()["error"]["message"]


@pytest.mark.parametrize("persona", ["supervisor", "handler_a"])
def test_only_admins_change_or_reset_a_rule(api: Api, persona: str):
    assert _put(api, WARN, 0.7, persona).status_code == 403
    assert api.as_(persona).request("DELETE", f"/settings/{WARN}").status_code == 403
    assert _rule(api, WARN)["value"] == 0.8


def test_a_reset_rule_is_back_at_its_default(api: Api):
    _put(api, WARN, 0.6)
    r = api.as_("admin").request("DELETE", f"/settings/{WARN}")
    assert r.status_code == 200 and (r.json()["value"], r.json()["customized"]) == (0.8, False)
    rule = _rule(api, WARN)
    assert (rule["value"], rule["customized"]) == (0.8, False)
    assert api.as_("admin").request("DELETE", f"/settings/{WARN}").status_code == 200  # resetting twice is fine

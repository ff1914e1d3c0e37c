"""PUT /holidays/{year}: an admin enters a year; one beyond every official notice needs confirming."""

from __future__ import annotations


def test_an_admin_enters_a_year_and_an_unusual_one_only_when_confirmed(api):
    admin = api.as_("admin")
    usual = {"days_off": [{"day": "2031-01-01", "name": "元旦"}], "workdays": []}
    assert api.as_("dispatcher").request("PUT", "/holidays/2031", json=usual).status_code == 403
    r = admin.request("PUT", "/holidays/2031", json=usual)
    assert r.status_code == 200 and r.json()["days"] == 1
    # 国庆 typed 10-01..12-07: nine weeks off.
    odd = {"days_off": [{"day": f"2031-{m:02d}-{d:02d}", "name": "国庆节"}
                        for m, last in ((10, 31), (11, 30), (12, 7)) for d in range(1, last + 1)], "workdays": []}
    r = admin.request("PUT", "/holidays/2031", json=odd)
    error = r.json()["error"]
    assert r.status_code == 422 and error["code"] == "holidays_unusual"
    assert "从 2031-10-01 起连续休息 68 天" in error["message"]
    assert "confirm_unusual" in error["message"]
    r = admin.request("PUT", "/holidays/2031", json={**odd, "confirm_unusual": True})
    assert r.status_code == 200 and r.json()["days"] == 68

"""How places are named on every page, export and message: from the county down, never twice."""

from __future__ import annotations

from hotline.directory import reference
from tests.builders import ZHULV


def test_a_place_is_named_from_the_county_down_and_a_county_once(db):
    with db.session() as s:
        snap = reference.snapshot(s)
        assert reference.region_label(snap, ZHULV) == "夏县裴介镇朱吕村"
        # A development zone's own name begins with its county: the county is not said twice.
        [zone] = [code for code, row in snap.regions.items() if row[0] == "稷山县经济技术开发区"]
        assert reference.region_label(snap, zone) == "稷山县经济技术开发区"
        below = [code for code in snap.regions if code.startswith(zone) and code != zone]
        for code in below[:3]:
            assert reference.region_label(snap, code).count("稷山县") == 1
        assert reference.region_label(snap, "1404") == "长治市"  # a city names itself

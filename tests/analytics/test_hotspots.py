"""Hot spots: what a supervisor reading the top list notices (hotline.analytics.hotspots)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from hotline.analytics import hotspots as H
from hotline.analytics.hotspot_store import HotSpotSnapshot
from hotline.kit import clock
from tests.builders import register

START = datetime(2026, 3, 1, tzinfo=UTC)
END = START + timedelta(days=30)
PEIJIE_ZHULV = "140828102207"  # 夏县裴介镇朱吕村
PEIJIE_OTHER = "140828102"  # 夏县裴介镇 (the township itself)
MIAOQIAN_XUEZHUANG = "140828101206"  # 夏县庙前镇薛庄村
YANHU = "140802001"  # 盐湖区中城街道

OUTAGE = ["朱吕村从昨天下午开始停水，到现在还没有来水，家里老人做饭都成问题",
          "朱吕村又停水了，自来水一滴都没有，请供水站尽快恢复供水",
          "我们朱吕村停水两天了，水龙头没水，请尽快派人修复供水管道",
          "朱吕村全村停水，没有接到任何停水通知，请尽快恢复供水",
          "朱吕村停水还没有恢复，村民吃水困难，请尽快处理",
          "反映朱吕村停水问题，已经停了一天多，自来水一直不来"]
SCATTERED = [("0501", "中城街道菜市场门口垃圾堆放没人清理"), ("0902", "咨询孩子转学需要准备哪些材料"),
             ("1101", "超市卖的牛奶过期了要求退款"), ("0701", "公交车司机不按站点停车"),
             ("1401", "咨询低保申请的条件和流程"), ("0801", "公司拖欠三个月工资不发")]


def _at(day: float) -> datetime:
    return START + timedelta(days=day)


def _ticket(session, people, *, day: float, content: str, region: str = PEIJIE_ZHULV, category: str = "0101",
            phone: str | None = None, urgency: str = "normal", title: str | None = None):
    clock.freeze(_at(day))
    t = register(session, people, content=content, region_code=region, category_code=category, urgency=urgency,
                 caller_phone=phone or f"1380359{abs(hash((day, content))) % 10000:04d}", title=title)
    clock.freeze(None)
    return t


def _ids(spot) -> set[int]:
    return set(spot.ticket_ids)


def test_a_burst_of_outages_in_one_township_ranks_above_scattered_requests(session, people):
    burst = {_ticket(session, people, day=25 + i * 0.3, content=text).id for i, text in enumerate(OUTAGE)}
    for i, (cat, text) in enumerate(SCATTERED * 2):
        _ticket(session, people, day=1 + i * 2, content=text, category=cat, region=YANHU)
    session.flush()

    spots = H.hot_spots(session, start=START, end=END, top=5)

    assert spots, "no hot spot found"
    assert _ids(spots[0]) == burst
    assert spots[0].category_code == "01"
    assert "停水" in spots[0].label
    place, _, words = spots[0].label.partition("·")
    assert all(w in spots[0].keywords for w in words.split("、")), spots[0].label  # whole words, apart
    assert 0 < spots[0].heat <= 100
    assert set(spots[0].components) == {"volume", "growth", "callers", "places", "severity"}


def test_the_same_problem_at_two_places_is_two_hot_spots(session, people):
    a = {_ticket(session, people, day=10 + i, title="碧水花园小区夜间施工噪音扰民",
                 content=f"碧水花园小区旁边工地夜间施工噪音很大，晚上十一点还在打桩，第{i}次反映",
                 category="0601", region=PEIJIE_OTHER).id for i in range(4)}
    b = {_ticket(session, people, day=10.5 + i, title="金色家园小区夜间施工噪音扰民",
                 content=f"金色家园小区旁边工地夜间施工噪音很大，晚上十一点还在打桩，第{i}次反映",
                 category="0601", region=PEIJIE_OTHER).id for i in range(4)}
    session.flush()

    spots = H.hot_spots(session, start=START, end=END, top=5)

    assert sorted((_ids(s) for s in spots), key=min) == sorted([a, b], key=min)
    assert {s.place for s in spots} == {"碧水花园小区", "金色家园小区"}


def test_two_townships_with_the_same_problem_are_two_hot_spots(session, people):
    a = {_ticket(session, people, day=3 + i, content=OUTAGE[i]).id for i in range(4)}
    b = {_ticket(session, people, day=3 + i, content=OUTAGE[i].replace("朱吕村", "薛庄村"),
                 region=MIAOQIAN_XUEZHUANG).id for i in range(4)}
    session.flush()

    spots = H.hot_spots(session, start=START, end=END)

    assert sorted((_ids(s) for s in spots), key=min) == sorted([a, b], key=min)


YAOFENG = {"城南社区": "140828100003", "城西社区": "140828100002", "西关村": "140828100201"}  # 夏县瑶峰镇


def test_an_outage_across_a_townships_communities_is_placed_at_the_township(session, people):
    """Titles run the township and the community together (瑶峰镇城南社区): the place is 瑶峰镇, not
    瑶峰镇城 (the 城 of 城南 taken for an estate's suffix)."""
    texts = ["从昨天晚上开始全村停电，涉及三百多户，打供电所电话一直占线", "最近三天两头停电，一到晚上就停电，冰箱里的东西都坏了",
             "大面积停电已经一天了，也没有接到停电通知，请尽快恢复供电"]
    ids = {_ticket(session, people, day=20 + i * 0.2, title=f"瑶峰镇{place}大面积停电", content=f"瑶峰镇{place}{texts[i % 3]}",
                   category="0201", region=YAOFENG[place]).id
           for i, place in enumerate(["城南社区", "城西社区", "城南社区", "西关村", "城西社区", "城南社区"])}
    session.flush()

    (spot,) = H.hot_spots(session, start=START, end=END, top=5)

    assert _ids(spot) == ids
    assert spot.place == "瑶峰镇" and spot.label.startswith("瑶峰镇·"), spot.label
    assert "瑶峰镇城" not in spot.label
    # the label says what is wrong, not which communities: no piece of a place among its words
    assert spot.label == "瑶峰镇·大面积、停电", spot.label
    assert not any(w in place or w in ("城南", "城西", "西关", "社区") for w in spot.keywords for place in YAOFENG), \
        spot.keywords


def test_a_hot_spot_s_words_leave_out_the_county_and_village_names_of_its_titles(session, people):
    """Titles naming the county and the village (夏县水头镇南乔村…): the words are the problem's."""
    villages = ["南乔村", "洛沱湾村", "水南村"]
    for i in range(6):
        _ticket(session, people, day=20 + i * 0.2, title=f"夏县水头镇{villages[i % 3]}公路塌陷",
                content=f"夏县水头镇{villages[i % 3]}通往镇上的公路塌陷了，车辆无法通行，请尽快修复",
                category="0201", region=YAOFENG["城南社区"])
    session.flush()
    (spot,) = H.hot_spots(session, start=START, end=END, top=5)
    assert spot.keywords[:2] == ["公路", "塌陷"], spot.keywords
    assert not any(w.endswith(("县", "村")) or w in ("南乔", "水南", "南村") for w in spot.keywords), spot.keywords


def test_growth_raises_the_heat(session, people):
    # the same problem told 5 times in each township: early in the month at 薛庄村, in its last days at 朱吕村
    late = {_ticket(session, people, day=26 + i * 0.5, content=OUTAGE[i]).id for i in range(5)}
    early = {_ticket(session, people, day=1 + i * 0.5, content=OUTAGE[i].replace("朱吕村", "薛庄村"),
                     region=MIAOQIAN_XUEZHUANG).id for i in range(5)}
    session.flush()

    spots = H.hot_spots(session, start=START, end=END)

    by = {frozenset(s.ticket_ids): s for s in spots}
    assert by[frozenset(late)].components["growth"] > by[frozenset(early)].components["growth"]
    assert by[frozenset(late)].heat > by[frozenset(early)].heat
    assert _ids(spots[0]) == late


def test_the_area_filter_keeps_other_areas_out(session, people):
    xia = {_ticket(session, people, day=5 + i, content=OUTAGE[i]).id for i in range(4)}
    _yan = {_ticket(session, people, day=5 + i, content=OUTAGE[i].replace("朱吕村", "中城街道"),
                    region=YANHU).id for i in range(4)}
    session.flush()

    spots = H.hot_spots(session, start=START, end=END, region_code="140828")

    assert [_ids(s) for s in spots] == [xia]
    assert H.hot_spots(session, start=START, end=END, region_code="140802001")[0].area_code == YANHU
    # and the period: none of them before the first
    assert H.hot_spots(session, start=START, end=_at(4)) == []


def test_refresh_stores_the_standard_periods_for_the_city_and_each_county(session, people):
    session.execute(delete(HotSpotSnapshot))
    now = _at(29.5)
    burst = {_ticket(session, people, day=28.0 + i * 0.05, content=text).id for i, text in enumerate(OUTAGE)}
    session.flush()

    written = H.refresh_snapshots(session, now, top=3)

    rows = session.scalars(select(HotSpotSnapshot).order_by(HotSpotSnapshot.period, HotSpotSnapshot.area_code)).all()
    assert written == len(rows) > 0
    got = {(r.period, r.area_code): r for r in rows}
    for period in ("yesterday", "7d", "30d"):
        assert set(got[(period, "")].ticket_ids) == burst
        assert set(got[(period, "140828")].ticket_ids) == burst
    assert not any(r.area_code == "140802" for r in rows)
    assert got[("7d", "")].detail["components"]["volume"] == 1.0
    # a second refresh replaces, not adds
    assert H.refresh_snapshots(session, now, top=3) == written
    assert len(session.scalars(select(HotSpotSnapshot)).all()) == written
    session.execute(delete(HotSpotSnapshot))


def test_places_are_found_without_a_gazetteer():
    assert H.extract_places("反映A5区劳动东路魅力之城小区油烟扰民") == ["劳动东路", "魅力之城小区"]
    assert "滨河苑" in H.extract_places("投诉滨河苑针对职工购房的霸王规定")[0]
    assert H.extract_places("夏县瑶峰镇城南社区停电") == ["瑶峰镇", "城南社区"]
    assert H.extract_places("瑶峰镇中学门口积水") == ["瑶峰镇中学"]  # a school of the township is one place


CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "teddy2020c" / "messages_with_likes.csv"


@pytest.mark.skipif(not CSV.exists(), reason=f"{CSV} is absent (../shared holds the Teddy Cup data)")
def test_the_teddy_messages_give_five_hot_spots():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import hotspots as bench

    rows = sorted(bench.load(CSV), key=lambda r: r["at"])[:1500]
    ranked, _, _, _ = bench.run_csv(rows)
    assert len(ranked) >= 5
    top = ranked[:5]
    assert all(c.size >= 3 and 0 < c.heat <= 100 for c in top)
    assert [c.heat for c in top] == sorted((c.heat for c in top), reverse=True)


# Four callers about one outage, told in words each of them uses once: every word of the titles
# ties with the others, and two estates are named as often as each other.
TIED = r"""
from datetime import UTC, datetime, timedelta
from hotline.analytics import hotspots as H
at = datetime(2026, 3, 1, tzinfo=UTC)
texts = ["碧水花园和金鼎小区停水水压低，自来水公司抢修", "金鼎小区和碧水花园停水水压低，自来水公司抢修",
         "碧水花园和金鼎小区停水水压低，自来水公司抢修", "金鼎小区和碧水花园停水水压低，自来水公司抢修"]
ms = [H.Message(i, t, t, at + timedelta(hours=i)) for i, t in enumerate(texts)]
print([(c.label, c.keywords, c.place, c.places) for c in H.cluster(ms)])
"""


def test_a_hot_spots_label_and_keywords_are_the_same_in_every_process():
    """The words and places tied in count were listed in the order of a ``set``, which Python
    varies from process to process (hash randomisation): the same month's report, made twice, or
    the hot spots of the API and of the worker's snapshot, named one hot spot differently
    (瑶峰镇·咨询、办理、业务, then 瑶峰镇·办理、咨询、业务). Ties now keep the order the words first
    appear in."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    env["PYTHONPATH"] = str(Path(__file__).parents[2] / "src")
    seen = {subprocess.run([sys.executable, "-c", TIED], env={**env, "PYTHONHASHSEED": str(seed)},
                           capture_output=True, text=True, timeout=120, check=True).stdout
            for seed in range(1, 7)}
    assert len(seen) == 1, seen
    assert "碧水花园" in seen.pop()

"""Place extraction: the most specific region a caller names, the way agents write it down."""

from __future__ import annotations

import pytest

from hotline.classification import places
from hotline.directory import reference

ZHULV = "140828102207"  # 夏县裴介镇朱吕村


@pytest.fixture
def snap(db):
    with db.session() as s:
        return reference.snapshot(s)


def code(snap, text):
    m = places.extract(snap, text)
    return m.code if m else None


def label(snap, text):
    m = places.extract(snap, text)
    return m.label if m else None


def test_the_issue_examples(snap):
    m = places.extract(snap, "夏县裴介镇朱吕村村东的供水闸阀井漏水了")
    assert m is not None and m.code == ZHULV
    assert m.label == "夏县裴介镇朱吕村" and m.level == 5 and not m.ambiguous
    assert m.matched == "夏县裴介镇朱吕村" and m.span == (0, 8)
    assert m.confidence >= 0.9
    # Without the county: the township name is unique, so the village is found.
    assert code(snap, "裴介镇朱吕村停水") == ZHULV


@pytest.mark.parametrize("text", ["朱吕村村东的闸阀井漏水", "朱吕村委会门口的路灯不亮", "朱吕村民委员会不给开证明",
                                  "裴介朱吕村那边停水了"])
def test_village_forms(snap, text):
    assert code(snap, text) == ZHULV


@pytest.mark.parametrize(("text", "expected"), [
    ("夏县瑶峰镇中街小区3号楼楼道灯坏了", "夏县瑶峰镇"),
    ("祁家河乡的信号很差", "夏县祁家河乡"),
    ("稷山县翟店镇的集市占道经营", "稷山县翟店镇"),
    ("盐湖区解放路123号的饭店油烟扰民", "盐湖区"),
    ("盐湖这边的公交车太少了", "盐湖区"),
    ("永济的冬季供暖什么时候开始", "永济市"),
    ("新绛县的医保报销政策", "新绛县"),  # not 绛县
    ("胡张乡王村的自来水管爆了", "夏县胡张乡王村"),
])
def test_townships_counties_and_short_village_names_with_a_parent(snap, text, expected):
    assert label(snap, text) == expected


def test_a_village_name_shared_by_two_townships_is_decided_by_the_town_or_county(snap):
    assert label(snap, "水头镇西张村的路灯不亮") == "夏县水头镇西张村"
    assert label(snap, "段店乡西张村的路灯不亮") == "尧都区段店乡西张村"
    assert label(snap, "黎城县新庄村的村民反映饮水困难") == "黎城县西井镇新庄村"


def test_a_shared_name_with_nothing_to_decide_is_reported_at_the_common_region(snap):
    m = places.extract(snap, "周家庄村的路灯坏了")
    assert m is not None and m.ambiguous
    assert m.label == "尧都区" and m.level == 3 and len(m.candidates) == 2
    assert "周家庄村" in m.reason
    # Two villages in different cities: nothing sure to say.
    assert places.extract(snap, "西张村的路灯不亮") is None


@pytest.mark.parametrize("text", ["我想咨询一下养老保险怎么续交", "全村停水三天了，请尽快处理", "东西村口都堆满了垃圾",
                                  "河南来的货车在路边乱停", "", "小区门口的超市卖过期食品"])
def test_no_place(snap, text):
    assert places.extract(snap, text) is None


def test_the_stem_of_a_town_is_not_its_namesake_village(snap):
    assert label(snap, "胡张乡胡张初级中学的老师办补习班") == "夏县胡张乡"
    assert label(snap, "鑫福超市在夏县瑶峰镇南关村，卖的猪肉有问题") == "夏县瑶峰镇南关村"

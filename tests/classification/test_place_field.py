"""The location field's places to choose from: all of them when few, else the first ones and how
many there are, so a message or a list that stops short never reads as the only places allowed."""

from __future__ import annotations

import pytest

from hotline.classification.place_field import MAX_HINTS, resolve_place
from hotline.directory import reference


@pytest.fixture
def snap(db):
    with db.session() as s:
        return reference.snapshot(s)


def test_a_county_s_townships_are_all_offered_when_few_and_counted_when_many(snap):
    xia = resolve_place(snap, "夏县")  # 11 townships: every one, the last three included
    assert xia.code is None and "范围太大" in xia.problem
    assert xia.total == len(xia.options) == 11
    assert all(t in xia.choices for t in ("胡张乡", "南大里乡", "祁家河乡")) and "等" not in xia.choices
    yaodu = resolve_place(snap, "尧都区")  # 25 townships: the first ones, and how many there are
    assert yaodu.total == 25 and len(yaodu.options) == MAX_HINTS
    assert yaodu.choices.endswith("等 25 个") and yaodu.choices.count("、") == MAX_HINTS - 1


def test_a_name_found_nowhere_offers_the_places_whose_label_holds_it_and_counts_them(snap):
    few = resolve_place(snap, "沟")  # 12 labels hold it: all offered
    assert "找不到地点「沟」" in few.problem and few.total == len(few.options) == 12 and "等" not in few.choices
    many = resolve_place(snap, "王")  # 39: the first ones, those whose own name starts so first
    assert many.total == 39 and len(many.options) == MAX_HINTS and many.choices.endswith("等 39 个")
    assert many.options[0][1] == "盐湖区王范乡"

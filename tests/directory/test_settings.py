"""Operating rules (``directory.settings``): rules that only make sense together are checked
together, and a change is what every later read sees, however the reads interleave with it."""

from __future__ import annotations

import pytest

from hotline.directory import reference, settings
from hotline.kit.db import Database
from hotline.kit.errors import Invalid

WEIGHTS = ("assessment.weight_response", "assessment.weight_resolution", "assessment.weight_satisfaction")


def test_the_three_score_weights_may_not_all_be_zero(db: Database):
    with db.transaction() as s:
        settings.set_value(s, WEIGHTS[0], 0)
        settings.set_value(s, WEIGHTS[1], "0")
        with pytest.raises(Invalid, match="三项权重不能都为 0"):
            settings.set_value(s, WEIGHTS[2], 0.0)
        settings.set_value(s, WEIGHTS[2], 0.2)  # one above 0 is enough
    with db.transaction(write=False) as s:
        assert [reference.snapshot(s).rules[k] for k in WEIGHTS] == [0.0, 0.0, 0.2]


def test_a_weight_is_0_or_at_least_a_hundredth(db: Database):
    """Weights are relative: 0.000000001 beside 0.35 is 0 in all but name, and most likely a typo."""
    with db.transaction() as s:
        for typed in ("1e-9", 0.000000001, "0.009"):
            with pytest.raises(Invalid) as err:
                settings.set_value(s, WEIGHTS[0], typed)
            assert "须为 0 或不小于 0.01" in err.value.message and "e-" not in err.value.message
        with pytest.raises(Invalid, match="收到 0.000000001："):
            settings.set_value(s, WEIGHTS[1], "1e-9")
        assert settings.set_value(s, WEIGHTS[0], "0.01") == 0.01
        assert settings.set_value(s, WEIGHTS[0], "0") == 0.0
    with db.transaction(write=False) as s:
        assert reference.snapshot(s).rules[WEIGHTS[1]] == 0.35


def test_numbers_are_shown_as_people_write_them():
    assert settings.number(1e-9) == "0.000000001" and settings.number(0.35) == "0.35"
    assert settings.shown(WEIGHTS[0], 1e-05) == "0.00001" and settings.shown("callback.max_attempts", 5) == "5"


def test_a_rule_changed_is_seen_once_committed_even_when_read_before_the_commit(db: Database):
    """Another request (a page, the worker) reading the rules between the change and its commit
    reads the old value, and must not keep it for the cache's lifetime."""
    with db.transaction(write=False) as s:
        assert reference.snapshot(s).rules[WEIGHTS[0]] == 0.30
    with db.transaction() as editing:
        settings.set_value(editing, WEIGHTS[0], 0.5)
        with db.transaction(write=False) as meanwhile:
            assert reference.snapshot(meanwhile).rules[WEIGHTS[0]] == 0.30
    with db.transaction(write=False) as s:
        assert reference.snapshot(s).rules[WEIGHTS[0]] == 0.5
    with db.transaction() as editing:
        settings.reset(editing, WEIGHTS[0])
        with db.transaction(write=False) as meanwhile:
            assert reference.snapshot(meanwhile).rules[WEIGHTS[0]] == 0.5
    with db.transaction(write=False) as s:
        assert reference.snapshot(s).rules[WEIGHTS[0]] == 0.30

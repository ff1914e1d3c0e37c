"""Finding a person in the ledger by the whole resident ID number on their card: only the complete
number finds them, never a fragment of it, and only within the searcher's scope."""

from __future__ import annotations

import pytest

from hotline.employment import queries
from hotline.employment.fields import id_checksum, id_query
from hotline.employment.queries import WorkerFilter
from tests.employment.conftest import DALV, SHUITOU, ZHULV, id_number, make_worker, scope_of

NUMBER = id_number("19750312", "131")


def number_ending_in_x() -> str:
    """A valid ID number whose check character is X."""
    for seq in range(100, 1000):
        first = f"14270119800101{seq}"
        if id_checksum(first) == "X":
            return first + "X"
    raise AssertionError("no sequence gives X")


def _found(session, user, q: str) -> list[str]:
    rows, total = queries.list_workers(session, scope_of(session, user), WorkerFilter(q=q))
    assert total == len(rows)
    return [w.name for w in rows]


@pytest.mark.parametrize(("typed", "number"), [
    ("14270119750312131" + NUMBER[-1], NUMBER),
    (" 1427 0119 7503 1213 1" + NUMBER[-1] + " ", NUMBER),
    ("１４２７０１１９７５０３１２１３１" + NUMBER[-1], NUMBER),  # typed with a full-width input method
    (number_ending_in_x()[:17] + "x", number_ending_in_x()),
])
def test_a_whole_number_is_read_as_an_id_number(typed, number):
    assert id_query(typed) == number


@pytest.mark.parametrize("typed", ["", "张麦环", NUMBER[:17], NUMBER[:6], NUMBER + "1", "X" + NUMBER[1:],
                                   NUMBER[:10] + "张" + NUMBER[11:], "13903551234"])
def test_anything_else_is_not_an_id_number(typed):
    assert id_query(typed) is None


def test_the_whole_id_number_finds_the_person_and_a_fragment_finds_nobody_by_it(session, staff):
    x_number = number_ending_in_x()
    make_worker(session, ZHULV, name="张麦环", id_number=NUMBER)
    make_worker(session, DALV, name="李秀英", id_number=x_number)
    make_worker(session, DALV, name="王电话", phone="13914270155")  # 142701 is part of the phone number
    session.commit()
    township = staff.township
    assert _found(session, township, NUMBER) == ["张麦环"]
    assert _found(session, township, f" {NUMBER[:9]} {NUMBER[9:]} ") == ["张麦环"]
    assert _found(session, township, x_number[:17] + "x") == ["李秀英"]  # lower-case x
    assert _found(session, township, x_number) == ["李秀英"]
    # Fragments of an ID number are searched as text, as before: name, phone, skills, intention,
    # employer, never the ID number.
    assert _found(session, township, NUMBER[:17]) == []
    assert _found(session, township, NUMBER[1:]) == []
    assert _found(session, township, NUMBER[-8:]) == []
    assert _found(session, township, NUMBER[:6]) == ["王电话"]
    assert _found(session, township, "0155") == ["王电话"]
    # A well-shaped number that is nobody's (a wrong check digit) finds nobody.
    wrong = NUMBER[:17] + ("0" if NUMBER[-1] != "0" else "1")
    assert _found(session, township, wrong) == []


def test_a_person_outside_the_searchers_scope_is_not_found_by_their_id_number(session, staff):
    make_worker(session, DALV, name="大吕人", id_number=NUMBER)
    make_worker(session, SHUITOU, name="水头人", id_number=id_number("19800101", "242"))
    session.commit()
    assert _found(session, staff.village, NUMBER) == []  # 朱吕村's handler: 大吕村 is not theirs
    assert _found(session, staff.township, NUMBER) == ["大吕人"]
    assert _found(session, staff.township, id_number("19800101", "242")) == []  # 水头镇
    assert _found(session, staff.bureau, id_number("19800101", "242")) == ["水头人"]
    assert _found(session, staff.other, NUMBER) == []
    # The other filters still apply alongside the number.
    rows, _ = queries.list_workers(session, scope_of(session, staff.township),
                                   WorkerFilter(q=NUMBER, village_code=ZHULV))
    assert rows == []

"""A row's 受理时间 is refused before 2000-01-01 as the API refuses it: the registration itself checks it,
so no intake path registers a ticket numbered with a 5-digit year or shown with a local-mean-time offset."""

from __future__ import annotations

from datetime import datetime

from hotline.kit import clock
from tests.importing.test_repeats import count, imported

HEADER = "诉求内容,发生地,事项分类,联系电话,受理时间\n"


def test_a_row_received_before_2000_is_refused_naming_the_floor(db, people, tmp_path):
    clock.freeze(datetime(2026, 11, 28, 10, 0))
    path = tmp_path / "old.csv"
    path.write_text(HEADER + "来信反映村里停水,裴介镇 朱吕村,停水,13803590001,1999-12-31 23:59\n"
                             "村口路灯不亮,裴介镇 朱吕村,0404,,0001-01-01 00:00\n"
                             "来信反映路面塌陷,裴介镇 朱吕村,0404,,2000-01-01 00:00\n", encoding="utf-8")
    result = imported(db, path, people.agent)
    assert [(p.row, p.message) for p in result.problems] == [(2, "受理时间不能早于 2000-01-01：「1999-12-31 23:59」"),
                                                            (3, "受理时间不能早于 2000-01-01：「0001-01-01 00:00」")]
    assert result.numbers == ["20000101-000001"] and count(db) == 0  # refused rows: nothing kept

"""Ledger import (all or nothing, every refused row by number), export, and matching."""

from __future__ import annotations

import io

import openpyxl
from sqlalchemy import func, select

from hotline.employment import ledger, queries, service
from hotline.employment.models import Worker
from hotline.employment.scope import EVERYWHERE
from tests.employment.conftest import DALV, SHUITOU, XINSHE, ZHULV, id_number, make_worker, scope_of

HEADER = "村,姓名,性别,出生年份,联系电话,身份证号,文化程度,技能特长,就业状态,就业地点,就业单位,就业意向,是否需要帮扶\n"


def _file(tmp_path, body: str, name: str = "台账.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8-sig")
    return path


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Worker)) or 0


def test_a_good_file_is_imported_and_a_check_keeps_nothing(session, staff, tmp_path):
    path = _file(tmp_path, f"朱吕村,张麦环,男,1975,13803590001,{id_number('19750312', '131')},初中,电焊,未就业,,,电焊工,是\n"
                           "裴介镇大吕村,李秀英,女,1982,,,高中/中专,缝纫,灵活就业,县内,裴介镇服装车间,,否\n")
    township = scope_of(session, staff.township)
    check = ledger.import_file(session, township, path, actor=staff.township, dry_run=True)
    assert check.ok and check.rows == 2
    session.rollback()
    assert _count(session) == 0
    result = ledger.import_file(session, township, path, actor=staff.township)
    assert result.ok and len(result.added) == 2
    session.commit()
    li = session.scalars(select(Worker).where(Worker.name == "李秀英")).one()
    assert li.village_code == DALV and li.employer == "裴介镇服装车间" and li.work_place.value == "in_county"


def test_a_ledger_saved_by_excel_as_gbk_csv_is_imported_as_written(session, staff, tmp_path):
    """Excel's 「CSV（逗号分隔）」 on a Chinese Windows writes GBK: read, not refused."""
    path = tmp_path / "台账.csv"
    path.write_bytes((HEADER + "裴介镇大吕村,李秀英,女,1982,,,高中/中专,缝纫,灵活就业,县内,裴介镇服装车间,,否\n").encode("gbk"))
    result = ledger.import_file(session, scope_of(session, staff.township), path, actor=staff.township)
    assert result.ok, result.problems
    session.commit()
    li = session.scalars(select(Worker)).one()
    assert (li.name, li.skills, li.employer, li.village_code) == ("李秀英", "缝纫", "裴介镇服装车间", DALV)


def test_bad_rows_are_all_reported_by_row_number_and_nothing_is_kept(session, staff, tmp_path):
    taken = id_number("19600101", "111")
    make_worker(session, SHUITOU, name="已登记", id_number=taken)
    session.commit()
    twice = id_number("19900505", "222")
    path = _file(tmp_path, "朱吕村,好人,男,1980,,,,,稳定就业,,,,否\n"
                           "朱吕村,,男,1980,,,,,未就业,,,,是\n"
                           f"朱吕村,重复甲,,,,{twice},,,未就业,,,,是\n"
                           f"朱吕村,重复乙,,,,{twice},,,未就业,,,,是\n"
                           "水头村,越界,男,1980,,,,,未就业,,,,是\n"
                           f"大吕村,撞号,,,,{taken},,,未就业,,,,是\n"
                           "大吕村,乱填,男,1980,,,,,打零工,,,,是\n")
    result = ledger.import_file(session, scope_of(session, staff.township), path, actor=staff.township)
    session.rollback()
    assert [(p.row, p.message.split("，")[0].split("：")[0]) for p in result.problems] == [
        (3, "请填写姓名"), (5, "身份证号与第 4 行重复"), (6, "村「水头村」不是您辖区内设有就业服务站的村"),
        (7, "身份证号 1427**********" + taken[-4:] + " 已登记（在其他村的台账中）"), (8, "就业状态「打零工」无效")]
    assert _count(session) == 1  # only the worker there before


def test_a_file_without_the_required_columns_is_refused_whole(session, staff, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("姓名,性别\n张三,男\n", encoding="utf-8")
    try:
        ledger.import_file(session, EVERYWHERE, path, actor=None)
    except Exception as err:  # noqa: BLE001
        assert "缺少列：村、就业状态" in str(err)
    else:
        raise AssertionError("a file without 村 was imported")


def test_the_export_masks_id_numbers_and_keeps_to_the_scope(session, staff):
    number = id_number("19750312", "131")
    make_worker(session, ZHULV, name="张麦环", id_number=number)
    make_worker(session, SHUITOU, name="水头人")
    data = ledger.workbook(session, scope_of(session, staff.township), queries.WorkerFilter())
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("村", "姓名", "性别") and len(rows) == 2
    assert rows[1][0] == "裴介镇朱吕村" and rows[1][5] == number[:4] + "*" * 10 + number[-4:]


def test_matching_suggests_people_who_need_work_nearest_first(session, staff):
    near = make_worker(session, ZHULV, name="同村", employment_status="灵活就业")
    township = make_worker(session, DALV, name="同镇", employment_status="未就业")
    county = make_worker(session, SHUITOU, name="同县", employment_status="季节性务工")
    make_worker(session, ZHULV, name="无意向", job_intention="")
    make_worker(session, ZHULV, name="已稳定", employment_status="稳定就业")
    make_worker(session, ZHULV, name="不想干", employment_status="无就业意愿")
    job = service.add_job(session, EVERYWHERE, actor=None, employer="朱吕村扶贫车间", workshop=True, region_code=ZHULV,
                          title="手工编织", openings=8, pay="计件")
    found = queries.candidates(session, EVERYWHERE, job)
    assert [(w.name, d) for w, d in found] == [("同村", 0), ("同镇", 1), ("同县", 2)]
    service.recommend(session, EVERYWHERE, job, township, actor=None)
    assert [w.name for w, _ in queries.candidates(session, EVERYWHERE, job)] == ["同村", "同县"]
    assert [w.name for w, _ in queries.candidates(session, scope_of(session, staff.village), job)] == ["同村"]
    far = service.add_job(session, EVERYWHERE, actor=None, employer="信社村车间", region_code=XINSHE, title="普工",
                          openings=1, pay="计件")
    assert queries.candidates(session, EVERYWHERE, far) == []
    assert near and county


def test_matching_ranks_in_the_database_unemployed_and_needing_help_first_and_stops_at_the_limit(session, staff):
    """The ranking is done by the query (nearest, then 未就业, then 需要帮扶, then village, name), and only
    ``limit`` rows are read."""
    make_worker(session, SHUITOU, name="同县未就业", employment_status="未就业")
    make_worker(session, ZHULV, name="同村灵活", employment_status="灵活就业", needs_help="否")
    make_worker(session, ZHULV, name="同村灵活帮扶", employment_status="灵活就业", needs_help="是")
    make_worker(session, ZHULV, name="同村未就业", employment_status="未就业", needs_help="否")
    make_worker(session, DALV, name="同镇季节", employment_status="季节性务工", needs_help="否")
    job = service.add_job(session, EVERYWHERE, actor=None, employer="朱吕村扶贫车间", workshop=True, region_code=ZHULV,
                          title="手工编织", openings=8, pay="计件")
    found = queries.candidates(session, EVERYWHERE, job)
    assert [(w.name, d) for w, d in found] == [("同村未就业", 0), ("同村灵活帮扶", 0), ("同村灵活", 0),
                                               ("同镇季节", 1), ("同县未就业", 2)]
    assert [w.name for w, _ in queries.candidates(session, EVERYWHERE, job, limit=2)] == ["同村未就业", "同村灵活帮扶"]
    county_job = service.add_job(session, EVERYWHERE, actor=None, employer="县人社局", region_code=ZHULV[:6],
                                 title="保洁", openings=2, pay="月薪")
    assert {d for _, d in queries.candidates(session, EVERYWHERE, county_job)} == {2}


def _exported_without_ids(session, tmp_path):
    """The ledger as 导出 Excel writes it, with the masked 身份证号 column deleted, as a person would."""
    book = openpyxl.load_workbook(io.BytesIO(ledger.workbook(session, EVERYWHERE, queries.WorkerFilter())))
    sheet = book["劳动力台账"]
    sheet.delete_cols(ledger.EXPORT.index("身份证号") + 1)
    path = tmp_path / "台账.xlsx"
    book.save(path)
    return path


def test_importing_an_exported_ledger_again_adds_nobody_twice(session, staff, tmp_path):
    first = make_worker(session, ZHULV, name="杨卫东", phone="13803590001")
    second = make_worker(session, ZHULV, name="杨卫东", birth_year="1980")  # same name, another person
    third = make_worker(session, DALV, name="李秀英", gender="女", id_number=id_number("19820304", "222"))
    session.commit()
    path = _exported_without_ids(session, tmp_path)
    township = scope_of(session, staff.township)
    for dry_run in (True, False):
        result = ledger.import_file(session, township, path, actor=staff.township, dry_run=dry_run)
        session.rollback()
        assert not result.ok and not result.added
        assert [p.row for p in result.problems] == [2, 3, 4]  # every row, by its number
        assert sorted(p.message for p in result.problems) == sorted([
            f"杨卫东（1975 年生，电话 13803590001）已在台账中（台账编号 {first.id}），同一人不能重复登记",
            f"杨卫东（1980 年生，无电话）已在台账中（台账编号 {second.id}），同一人不能重复登记",
            f"李秀英（1982 年生，无电话）已在台账中（台账编号 {third.id}），同一人不能重复登记"])
    assert _count(session) == 3


def test_the_same_person_twice_in_one_file_is_refused_by_row(session, staff, tmp_path):
    path = _file(tmp_path, "朱吕村,杨卫东,男,1975,13803590001,,,,未就业,,,,是\n"
                           "朱吕村,杨卫东,男,1975,,,,,未就业,,,,是\n"  # no phone: another person
                           "裴介镇朱吕村,杨卫东,男,1975,13803590001,,,,稳定就业,,,,否\n"
                           f"朱吕村,杨卫东,,,13803590001,{id_number('19750312', '131')},,,未就业,,,,是\n")
    result = ledger.import_file(session, scope_of(session, staff.township), path, actor=staff.township)
    session.rollback()
    assert [(p.row, p.message) for p in result.problems] == [
        (4, "与第 2 行是同一人（村、姓名、出生年份、电话相同），同一人不能重复导入"),
        (5, "与第 2 行是同一人（村、姓名、出生年份、电话相同），同一人不能重复导入")]
    assert _count(session) == 0


def test_people_with_different_id_numbers_are_different_people(session, staff, tmp_path):
    make_worker(session, ZHULV, name="杨卫东", phone="13803590001", id_number=id_number("19750312", "131"))
    session.commit()
    path = _file(tmp_path, f"朱吕村,杨卫东,,,13803590001,{id_number('19750607', '151')},,,未就业,,,,是\n")
    result = ledger.import_file(session, scope_of(session, staff.township), path, actor=staff.township)
    assert result.ok and len(result.added) == 1


def test_a_masked_id_number_from_an_export_is_refused_saying_why(session, staff, tmp_path):
    path = _file(tmp_path, "朱吕村,杨卫东,男,1975,,1404**********2079,,,未就业,,,,是\n")
    result = ledger.import_file(session, scope_of(session, staff.township), path, actor=staff.township)
    session.rollback()
    assert [(p.row, p.message) for p in result.problems] == [
        (2, "身份证号「1404**********2079」：导出文件中的身份证号已脱敏，请删除该列或填写完整号码")]

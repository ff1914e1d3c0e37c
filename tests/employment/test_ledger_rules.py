"""Rules the QA pass found missing: one person on a village's ledger once whichever way they are
added, an import that loses no column and names every problem of a row, recommendations only of
people looking for work, jobs and activities corrected, activities that had people at them."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from hotline.employment import ledger, queries, service, standard
from hotline.employment.models import ActivityKind, Assistance, Worker
from hotline.employment.queries import WorkerFilter
from hotline.employment.scope import EVERYWHERE, LedgerScope
from hotline.kit import clock
from hotline.kit.errors import Conflict, Invalid, PermissionDenied, TransitionNotAllowed
from tests.employment.conftest import DALV, ZHULV, fields, id_number, make_worker, scope_of

DALV_ONLY = LedgerScope(None, everywhere=False, prefixes=(DALV,), may_edit=True)  # edits, but not 朱吕村


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(Worker)) or 0


def test_the_same_person_is_put_on_a_village_ledger_once_by_any_way(session, staff):
    """The form and the API added 杨卫东 (1975, 13803590001) a second time; only the import refused."""
    first = make_worker(session, ZHULV, name="杨卫东", phone="13803590001")
    scope = scope_of(session, staff.village)
    with pytest.raises(Conflict) as refused:
        service.add_worker(session, scope, actor=staff.village, village_code=ZHULV,
                           fields=fields(name="杨卫东", phone="13803590001", employment_status="稳定就业"))
    assert refused.value.message == (f"杨卫东（1975 年生，电话 13803590001）已在台账中（台账编号 {first.id}），"
                                     "同一人不能重复登记")
    assert refused.value.code == "already_on_ledger" and refused.value.http_status == 409
    nophone = make_worker(session, ZHULV, name="李秀英", gender="女", birth_year="1982")
    with pytest.raises(Conflict, match=f"李秀英（1982 年生，无电话）已在台账中（台账编号 {nophone.id}）"):
        make_worker(session, ZHULV, name="李秀英", gender="女", birth_year="1982")
    # Another village, another year, another phone, or two different ID numbers: other people.
    make_worker(session, DALV, name="杨卫东", phone="13803590001")
    make_worker(session, ZHULV, name="杨卫东", birth_year="1976", phone="13803590001")
    make_worker(session, ZHULV, name="杨卫东", phone="13803590002")
    make_worker(session, ZHULV, name="王五", id_number=id_number("19750312", "131"))
    make_worker(session, ZHULV, name="王五", id_number=id_number("19750312", "151"))
    assert _count(session) == 7


def _file(tmp_path, text: str):
    path = tmp_path / "台账.csv"
    path.write_text(text, encoding="utf-8-sig")
    return path


def test_a_file_with_headings_it_cannot_place_is_refused_naming_them(session, staff, tmp_path):
    """身份证, 手机号 and 帮扶 were dropped without a word, and the page said 已导入."""
    scope = scope_of(session, staff.village)
    path = _file(tmp_path, "村,姓名,性别,出生年份,就业状态,身份证件,手机号码2,需帮扶吗\n朱吕村,张三,男,1980,未就业,x,y,是\n")
    for dry_run in (True, False):  # 只检查 says the same
        with pytest.raises(Invalid) as refused:
            ledger.import_file(session, scope, path, actor=staff.village, dry_run=dry_run)
        message = refused.value.message
        assert message.startswith("无法识别的列名：「身份证件」、「手机号码2」、「需帮扶吗」。")
        assert "整个文件未导入" in message and "联系电话、身份证号" in message and "是否需要帮扶" in message
        assert refused.value.code == "unknown_columns"
    session.rollback()
    twice = _file(tmp_path, "村,姓名,性别,出生年份,就业状态,电话,手机\n朱吕村,张三,男,1980,未就业,13803590001,13803590002\n")
    with pytest.raises(Invalid, match="同一列出现两次：「电话」和「手机」"):
        ledger.import_file(session, scope, twice, actor=staff.village)
    assert _count(session) == 0


def test_common_headings_are_taken_and_nothing_is_lost(session, staff, tmp_path):
    number = id_number("19750312", "131")
    path = _file(tmp_path, "序号,村(社区),姓名,身份证,手机号,就业状态,帮扶\n"
                           f"1,朱吕村,张三,{number},13803590001,未就业,是\n")
    result = ledger.import_file(session, scope_of(session, staff.village), path, actor=staff.village)
    assert result.ok, result.problems
    worker = session.get(Worker, result.added[0])
    assert (worker.id_number, worker.phone, worker.needs_help, worker.birth_year) == (number, "13803590001", True, 1975)


def test_every_problem_of_a_row_is_named_at_once(session, staff, tmp_path):
    """A row with a wrong birth year, phone and 是否需要帮扶 was refused for the birth year only:
    fixed and imported again, it was refused for the phone, and again for the rest."""
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    path = _file(tmp_path, "村,姓名,性别,出生年份,联系电话,就业状态,是否需要帮扶,文化程度\n"
                           "朱吕村,张三,男,1880,12345,未就业,也许,博士后\n"
                           "外村,,,,,打零工,,\n"
                           "朱吕村,李四,男,1980,13803590001,未就业,否,初中\n")
    result = ledger.import_file(session, scope_of(session, staff.village), path, actor=staff.village)
    session.rollback()
    assert [p.row for p in result.problems] == [2, 3]
    assert result.problems[0].message == ("出生年份 1880 不在 1930–2010 之间（劳动力须年满 16 周岁）；"
                                          "联系电话「12345」无效：填 11 位手机号或带区号的固话；"
                                          "文化程度「博士后」无效，可填：小学及以下、初中、高中/中专、大专、本科及以上；"
                                          "是否需要帮扶「也许」应填 是 或 否")
    second = result.problems[1].message
    assert second.startswith("村「外村」不是您辖区内设有就业服务站的村；请填写姓名、性别（男/女）、出生年份；")
    assert second.endswith("就业状态「打零工」无效，可填：稳定就业、灵活就业、季节性务工、未就业、无就业意愿、无劳动能力")
    assert _count(session) == 0


def test_only_people_looking_for_work_are_recommended(session, staff):
    """无劳动能力 or 稳定就业 people were recommended and hired by a direct POST: the candidate list
    left them out, the service did not."""
    job = service.add_job(session, EVERYWHERE, actor=None, employer="裴介镇扶贫车间", region_code=ZHULV, title="编织",
                          openings=5, pay="计件")
    unable = make_worker(session, name="郝老汉", employment_status="无劳动能力", job_intention="编织")
    working = make_worker(session, name="李秀英", gender="女", employment_status="稳定就业", employer="某厂",
                          job_intention="编织")
    for worker, label in ((unable, "无劳动能力"), (working, "稳定就业")):
        with pytest.raises(TransitionNotAllowed) as refused:
            service.recommend(session, EVERYWHERE, job, worker, actor=None)
        assert refused.value.message == (f"{worker.name}的就业状态为「{label}」，不在求职人员之列：只能推荐未就业、"
                                         "灵活就业、季节性务工的人员；如情况有变，请先在台账中修改其就业状态")
    seeker = make_worker(session, name="王二", employment_status="季节性务工", job_intention="编织")
    assert [w.name for w, _d in queries.candidates(session, EVERYWHERE, job)] == ["王二"]  # the same rule
    assert service.recommend(session, EVERYWHERE, job, seeker, actor=None).worker_id == seeker.id
    assert session.scalar(select(func.count()).select_from(Assistance)) == 1


def test_a_job_is_corrected_with_the_checks_of_posting(session, staff):
    scope = scope_of(session, staff.village)
    job = service.add_job(session, scope, actor=staff.village, employer="朱吕村扶贫车问", region_code=ZHULV,
                          title="编织", openings=2, pay="计件")
    service.update_job(session, scope, job, actor=staff.village, employer=" 朱吕村扶贫车间 ", region_code=ZHULV,
                       title="手工编织", openings="3", pay="120元/天", requirements="女性优先", workshop=True)
    assert (job.employer, job.title, job.openings, job.pay, job.requirements, job.workshop) == (
        "朱吕村扶贫车间", "手工编织", 3, "120元/天", "女性优先", True)
    with pytest.raises(Invalid, match="请填写岗位名称、薪酬"):
        service.update_job(session, scope, job, actor=staff.village, employer="车间", region_code=ZHULV, title=" ",
                           openings=3, pay="")
    with pytest.raises(Invalid, match="招聘人数应在 1–10000 之间"):
        service.update_job(session, scope, job, actor=staff.village, employer="车间", region_code=ZHULV, title="编织",
                           openings=0, pay="计件")
    with pytest.raises(PermissionDenied, match="只能修改本辖区"):  # moved out of the poster's regions
        service.update_job(session, scope, job, actor=staff.village, employer="车间", region_code=DALV, title="编织",
                           openings=3, pay="计件")
    worker = make_worker(session, name="王二", job_intention="编织")
    service.decide(session, scope, service.recommend(session, scope, job, worker, actor=None), actor=None, hired=True)
    with pytest.raises(Invalid, match="已录用 1 人，招聘人数至少为 2 人（不再招聘请点「停招」）"):
        service.update_job(session, scope, job, actor=staff.village, employer="朱吕村扶贫车间", region_code=ZHULV,
                           title="编织", openings=1, pay="计件")
    with pytest.raises(Conflict, match="用工单位不能再修改"):
        service.update_job(session, scope, job, actor=staff.village, employer="别的车间", region_code=ZHULV,
                           title="编织", openings=3, pay="计件")
    assert job.employer == "朱吕村扶贫车间" and job.openings == 3


def test_an_activity_recorded_by_mistake_is_deleted_and_no_longer_counts(session, staff):
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    for kind in ActivityKind:
        service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind=kind, title="活动",
                             participants=10)
    worker = make_worker(session, name="王二")
    wrong = service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="job_fair",
                                 title="录错的招聘会", participants=5, worker_ids=[worker.id])
    session.flush()
    assert standard.villages(session, EVERYWHERE, village_code=ZHULV)[0].held[ActivityKind.job_fair] == 2
    with pytest.raises(PermissionDenied, match="只能修改本辖区"):
        service.delete_activity(session, DALV_ONLY, wrong)
    service.delete_activity(session, scope_of(session, staff.village), wrong)
    session.flush()
    v = standard.villages(session, EVERYWHERE, village_code=ZHULV)[0]
    assert v.held[ActivityKind.job_fair] == 1
    assert "参加招聘会：录错的招聘会" not in [a.note for a in queries.assistance_of(session, worker)]
    first_fair = next(a for a in queries.activities(session, EVERYWHERE) if a.kind == ActivityKind.job_fair)
    service.delete_activity(session, EVERYWHERE, first_fair)
    assert standard.villages(session, EVERYWHERE, village_code=ZHULV)[0].missing == [ActivityKind.job_fair]


def test_an_attended_activity_had_people_at_it(session, staff):
    """参加人数 0 or blank was saved and counted as held; 3 ticked with 0 became 3 without a word."""
    clock.freeze(datetime(2026, 6, 15, 10, 0))
    people = [make_worker(session, name=n) for n in ("张一", "王二", "李三")]
    ids = [w.id for w in people]
    with pytest.raises(Invalid) as refused:
        service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="training", title="电焊培训",
                             participants=0, worker_ids=ids)
    assert refused.value.message == "参加人数应在 1–10000 之间（填的是 0）"
    with pytest.raises(Invalid) as refused:
        service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="training", title="电焊培训",
                             participants="2", worker_ids=ids)
    assert refused.value.message == "参加人数 2 人少于勾选的台账参加人员（3 人）：请填写实际参加人数（至少 3 人）"
    with pytest.raises(Invalid, match="请填写参加人数"):
        service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="job_fair", title="招聘会")
    assert standard.villages(session, EVERYWHERE, village_code=ZHULV)[0].held == {}
    kept = service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="training", title="电焊培训",
                                participants="3", worker_ids=ids)
    assert kept.participants == 3
    # 一本帮扶台账 and 一个活动场所 are not events people attend: no count needed.
    venue = service.add_activity(session, EVERYWHERE, actor=None, village_code=ZHULV, kind="venue", title="活动室挂牌",
                                 on_day=date(2026, 6, 1))
    assert venue.participants == 0


@pytest.mark.parametrize("typed", ["%", "_", "%%", "%_ "])
def test_a_search_for_wildcards_only_finds_nobody(session, staff, typed):
    """「%」 showed the whole ledger under 关键词「%」."""
    make_worker(session, ZHULV, name="张三")
    make_worker(session, ZHULV, name="李四", skills="50%提成")
    rows, total = queries.list_workers(session, EVERYWHERE, WorkerFilter(q=typed.strip()))
    assert total == (1 if typed.strip() == "%" else 0) and [w.name for w in rows] == (["李四"] if total else [])


@pytest.mark.parametrize("typed", [id_number("19750312", "131")[:15], id_number("19750312", "131")[:17],
                                   "张三 " + id_number("19750312", "131")[:16]])
def test_most_of_an_id_number_finds_nobody(session, staff, typed):
    make_worker(session, ZHULV, name="张三", id_number=id_number("19750312", "131"), phone="13803590001")
    assert queries.list_workers(session, EVERYWHERE, WorkerFilter(q=typed)) == ([], 0)

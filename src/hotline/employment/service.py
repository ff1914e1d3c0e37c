"""Changes to the labour ledger, one function per change. Each checks the actor's ledger scope
(``employment.scope``), flushes and never commits: the edge (request, command) does.

Rules kept here:
- a resident ID number is registered once across all ledgers (a duplicate is refused by name), and a
  person once on a village's ledger: the same name, birth year and phone is refused by the form, the
  API and the import alike (``add_worker``);
- only people looking for work (``models.SEEKING``, the matching's rule too) are recommended;
- a worker recommended to a job is recommended once; a recommendation is decided once, as hired
  (录用上岗) or not (未录用);
- a worker is placed once at a time: while the ledger still shows them 稳定就业 at the employer of
  the job they were hired through, another recommendation's 录用上岗 is refused (未录用 is not); once
  the ledger says they left (another status or employer), that hire no longer holds them; the
  worker's row is locked while an outcome is decided, so two outcomes at once cannot both pass;
- a posting is open only while fewer are hired than it asked for: it is reopened with more openings;
- dates are not after today nor before 2000-01-01 (``EARLIEST``), nor, for a person, before the
  year they were born;
- a worker hired through a recommendation becomes 稳定就业 at that employer, with the work place
  worked out from the job's region and a 岗位推荐 assistance record, in the same transaction;
- attendees of a guidance, training, job fair or troupe activity each get an assistance record; such
  an activity had at least one participant, and no fewer than the ledger workers ticked; an activity
  recorded by mistake is deleted with those records, and no longer counts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.directory.models import Region
from hotline.employment import queries
from hotline.employment.fields import (
    RECORD_LIMIT,
    long_text,
    mask_id,
    please_fill,
    whole_number,
    work_place_between,
)
from hotline.employment.models import (
    ACTIVITY_LABELS,
    ASSISTANCE_LABELS,
    ATTENDED_AS,
    EMPLOYMENT_LABELS,
    SEEKING,
    Activity,
    ActivityKind,
    ActivityWorker,
    Assistance,
    AssistanceKind,
    EmploymentStatus,
    JobPosting,
    JobState,
    Referral,
    ReferralState,
    Station,
    Worker,
)
from hotline.employment.scope import LedgerScope
from hotline.kit import clock
from hotline.kit.errors import Conflict, Invalid, NotFound, TransitionNotAllowed


def today() -> date:
    return clock.local().date()


EARLIEST = date(2000, 1, 1)  # no ledger, assistance or activity is dated before this
MAX_COUNT = 10_000  # openings of a posting, participants of an activity


def _day(on_day: date | None, *, born: int | None = None) -> date:
    day = on_day or today()
    if day > today():
        raise Invalid(f"日期 {day.isoformat()} 晚于今天", details={"field": "on_day"})
    if day < EARLIEST:
        raise Invalid(f"日期 {day.isoformat()} 早于 {EARLIEST.isoformat()}，请核对", details={"field": "on_day"})
    if born is not None and day.year < born:
        raise Invalid(f"日期 {day.isoformat()} 早于该人员的出生年份（{born} 年），请核对", details={"field": "on_day"})
    return day


def _region(session: Session, code: str, *, village: bool) -> Region:
    region = session.get(Region, code.strip()) if code else None
    if region is None or (village and region.level != 5):
        raise Invalid(f"找不到{'村（社区）' if village else '地点'}「{code}」", details={"field": "village_code"})
    return region


def add_station(session: Session, scope: LedgerScope, *, village_code: str, name: str | None = None,
                phone: str | None = None, opened_on: date | None = None) -> Station:
    """Open a village's service station; its ledger and activities hang on it."""
    region = _region(session, village_code, village=True)
    scope.require_edit(region.code)
    if session.get(Station, region.code) is not None:
        raise Conflict(f"{region.short_name}已设有就业服务站", code="station_exists")
    station = Station(village_code=region.code, name=(name or "").strip() or f"{region.short_name}劳动保障服务站",
                      phone=(phone or "").strip() or None, opened_on=opened_on, created_at=clock.now())
    session.add(station)
    session.flush()
    return station


def station_of(session: Session, village_code: str) -> Station:
    station = session.get(Station, village_code) if village_code else None
    if station is None:
        name = session.scalar(select(Region.short_name).where(Region.code == village_code)) or village_code
        raise Invalid(f"{name or '该村'}尚未设立就业服务站", code="no_station", details={"field": "village_code"})
    return station


def _unique_id(session: Session, scope: LedgerScope, number: str | None, worker_id: int | None) -> None:
    if not number:
        return
    other = session.scalar(select(Worker).where(Worker.id_number == number, Worker.id != (worker_id or 0)))
    if other is None:
        return
    where = (f"（{session.scalar(select(Region.short_name).where(Region.code == other.village_code))} {other.name}）"
             if scope.covers(other.village_code) else "（在其他村的台账中）")
    raise Conflict(f"身份证号 {mask_id(number)} 已登记{where}，同一人不能重复登记", code="duplicate_id_number",
                   details={"field": "id_number", "worker_id": other.id if scope.covers(other.village_code) else None})


class KnownPeople:
    """Who is on a village's ledger by name, birth year and phone, read once per village: the
    ledger import passes one to ``add_worker`` for a whole file (one query a village, not one a row:
    a 5,000-row file for one village would otherwise scan that village 5,000 times)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # village -> (name, birth year, phone) -> [(worker id, has an ID number)], oldest first
        self.people: dict[str, dict[tuple[Any, ...], list[tuple[int, bool]]]] = {}

    def same(self, village: str, fields: dict[str, Any]) -> list[tuple[int, bool]]:
        if village not in self.people:
            known: dict[tuple[Any, ...], list[tuple[int, bool]]] = {}
            for wid, name, year, phone, numbered in self.session.execute(
                    select(Worker.id, Worker.name, Worker.birth_year, Worker.phone, Worker.id_number.is_not(None))
                    .where(Worker.village_code == village).order_by(Worker.id)):
                known.setdefault((name, year, phone), []).append((wid, bool(numbered)))
            self.people[village] = known
        return self.people[village].get((fields["name"], fields["birth_year"], fields["phone"]), [])


def _same_people(session: Session, village: str, fields: dict[str, Any]) -> list[tuple[int, bool]]:
    """The ledger rows of ``village`` with the name, birth year and phone of ``fields``, oldest first."""
    phone = fields.get("phone")
    rows = session.execute(select(Worker.id, Worker.id_number.is_not(None)).where(
        Worker.village_code == village, Worker.name == fields["name"], Worker.birth_year == fields["birth_year"],
        Worker.phone == phone if phone else Worker.phone.is_(None)).order_by(Worker.id))
    return [(wid, bool(numbered)) for wid, numbered in rows]


def _refuse_known(session: Session, village: str, fields: dict[str, Any], known: KnownPeople | None) -> None:
    """A person is on a village's ledger once: the same name, birth year and phone (or both without
    one) is the same person, unless both have ID numbers (those are compared by ``_unique_id``,
    across every ledger: different numbers are different people)."""
    same = known.same(village, fields) if known is not None else _same_people(session, village, fields)
    other = next((wid for wid, numbered in same if not (numbered and fields.get("id_number"))), None)
    if other is not None:
        phone = fields.get("phone")
        who = f"{fields['name']}（{fields['birth_year']} 年生，" + (f"电话 {phone}）" if phone else "无电话）")
        raise Conflict(f"{who}已在台账中（台账编号 {other}），同一人不能重复登记", code="already_on_ledger",
                       details={"field": "name", "worker_id": other})


def add_worker(session: Session, scope: LedgerScope, *, actor: User | None, village_code: str,
               fields: dict[str, Any], known: KnownPeople | None = None) -> Worker:
    """Put a person on a village's ledger (``fields`` from ``fields.worker_fields``), once: an ID
    number already on any ledger, or the same name, birth year and phone already on this village's
    (``_refuse_known``), is refused naming who holds it. ``known``: the ledger as an import read it."""
    station = station_of(session, village_code)
    scope.require_edit(station.village_code)
    _unique_id(session, scope, fields.get("id_number"), None)
    _refuse_known(session, station.village_code, fields, known)
    now = clock.now()
    worker = Worker(village_code=station.village_code, created_at=now, updated_at=now,
                    updated_by_id=actor.id if actor else None, **fields)
    session.add(worker)
    session.flush()
    return worker


def update_worker(session: Session, scope: LedgerScope, worker: Worker, *, actor: User | None,
                  fields: dict[str, Any], village_code: str | None = None) -> Worker:
    """Change a worker's ledger row; moving them to another village needs that village in scope too."""
    scope.require_edit(worker.village_code)
    if village_code and village_code != worker.village_code:
        scope.require_edit(station_of(session, village_code).village_code)
        worker.village_code = village_code
    _unique_id(session, scope, fields.get("id_number"), worker.id)
    for key, value in fields.items():
        setattr(worker, key, value)
    worker.updated_at, worker.updated_by_id = clock.now(), actor.id if actor else None
    session.flush()
    return worker


def record_assistance(session: Session, scope: LedgerScope, worker: Worker, *, actor: User | None,
                      kind: AssistanceKind | str, note: str, on_day: date | None = None,
                      activity_id: int | None = None) -> Assistance:
    """A dated assistance record for one worker, with who recorded it."""
    scope.require_edit(worker.village_code)
    try:
        kind = AssistanceKind(kind)
    except ValueError:
        raise Invalid(f"帮扶方式「{kind}」无效，可选：{'、'.join(ASSISTANCE_LABELS.values())}",
                      details={"field": "kind"}) from None
    text = long_text(note, "帮扶内容", "note", RECORD_LIMIT)
    if not text:
        raise Invalid("请填写帮扶内容", details={"field": "note"})
    record = Assistance(worker_id=worker.id, kind=kind, on_day=_day(on_day, born=worker.birth_year), note=text,
                        activity_id=activity_id,
                        recorded_by_id=actor.id if actor else None, recorded_at=clock.now())
    session.add(record)
    session.flush()
    return record


def _openings(value: int | str) -> int:
    return whole_number(value, "招聘人数", "openings", low=1, high=MAX_COUNT)


def _job_values(session: Session, scope: LedgerScope, *, employer: str, region_code: str, title: str,
                openings: int | str | None, pay: str, requirements: str | None) -> dict[str, Any]:
    """A posting's fields as posted or edited, checked alike: every required field left empty is
    named at once, the place must lie in the poster's scope; ``openings`` may be the text typed."""
    employer, title, pay = (employer or "").strip(), (title or "").strip(), (pay or "").strip()
    missing = [(field, what) for value, what, field in (
        (employer, "用工单位", "employer"), ((region_code or "").strip(), "工作地点", "region_code"),
        (title, "岗位名称", "title"), (str(openings if openings is not None else "").strip(), "招聘人数", "openings"),
        (pay, "薪酬", "pay")) if not value]
    if missing:
        raise please_fill(missing)
    region = _region(session, region_code, village=False)
    scope.require_edit(region.code)
    return {"employer": employer[:120], "region_code": region.code, "title": title[:80],
            "openings": _openings(openings),  # type: ignore[arg-type] - not None: checked above
            "pay": pay[:60], "requirements": (requirements or "").strip() or None}


def add_job(session: Session, scope: LedgerScope, *, actor: User | None, employer: str, region_code: str,
            title: str, openings: int | str | None, pay: str, requirements: str | None = None,
            workshop: bool = False) -> JobPosting:
    """Post a job at a place in the poster's scope; it is open until closed (``_job_values``)."""
    values = _job_values(session, scope, employer=employer, region_code=region_code, title=title,
                         openings=openings, pay=pay, requirements=requirements)
    now = clock.now()
    job = JobPosting(**values, workshop=workshop, state=JobState.open, created_by_id=actor.id if actor else None,
                     created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    return job


def update_job(session: Session, scope: LedgerScope, job: JobPosting, *, actor: User | None, employer: str,
               region_code: str, title: str, openings: int | str | None, pay: str,
               requirements: str | None = None, workshop: bool = False) -> JobPosting:
    """Correct a posting: the fields of ``add_job``, checked the same way, by someone whose scope
    covers its place (the old one and the new). Its state is ``set_job_state``'s: an open posting
    keeps more openings than people hired through it; the employer stays as it is once someone
    was hired there (their ledger row names it, and says by it that they still work there)."""
    scope.require_edit(job.region_code)
    values = _job_values(session, scope, employer=employer, region_code=region_code, title=title,
                         openings=openings, pay=pay, requirements=requirements)
    hired = queries.hired_counts(session, [job.id]).get(job.id, 0)
    if values["openings"] < hired or (job.state == JobState.open and values["openings"] == hired):
        least = hired + (1 if job.state == JobState.open else 0)
        raise Invalid(f"已录用 {hired} 人，招聘人数至少为 {least} 人" +
                      ("（不再招聘请点「停招」）" if job.state == JobState.open else ""), details={"field": "openings"})
    if hired and values["employer"] != job.employer:
        raise Conflict(f"已有 {hired} 人经此岗位录用上岗，台账中他们的就业单位是「{job.employer}」：用工单位不能再修改"
                       "（如发布错了，请停招后重新发布）", code="job_has_hires", details={"field": "employer"})
    for key, value in values.items():
        setattr(job, key, value)
    job.workshop, job.updated_at = workshop, clock.now()
    session.flush()
    return job


def set_job_state(session: Session, scope: LedgerScope, job: JobPosting, *, state: JobState | str,
                  openings: int | str | None = None) -> JobPosting:
    """Close a posting (停招) or open it again, with a new number of openings if given. An open
    posting has fewer hired than openings (the hire that fills it closes it): one as full as that
    is reopened only with more openings."""
    scope.require_edit(job.region_code)
    state = JobState(state)
    wanted = None if openings is None or str(openings).strip() == "" else _openings(openings)
    if wanted is not None and state != JobState.open:
        raise Invalid("招聘人数只能在重新开放时调整", details={"field": "openings"})
    if state == JobState.open:
        count = wanted if wanted is not None else job.openings
        hired = queries.hired_counts(session, [job.id]).get(job.id, 0)
        if hired >= count:
            raise TransitionNotAllowed(
                f"已录用 {hired} 人，招聘人数为 {count} 人（已招满）：请先把招聘人数调高到至少 {hired + 1} 人，再重新开放",
                code="job_filled", details={"field": "openings"})
        job.openings = count
    job.state, job.updated_at = state, clock.now()
    session.flush()
    return job


def not_seeking_words(worker: Worker) -> str:
    """Why a worker who is not looking for work (``models.SEEKING``, the matching's rule too) is not
    recommended to a job."""
    return (f"{worker.name}的就业状态为「{EMPLOYMENT_LABELS[worker.employment_status]}」，不在求职人员之列："
            f"只能推荐{'、'.join(EMPLOYMENT_LABELS[s] for s in SEEKING)}的人员；如情况有变，请先在台账中修改其就业状态")


def recommend(session: Session, scope: LedgerScope, job: JobPosting, worker: Worker, *, actor: User | None,
              note: str | None = None) -> Referral:
    """Recommend a worker of one's ledger to an open posting, once; recorded as 岗位推荐."""
    scope.require_edit(worker.village_code)
    if job.state != JobState.open:
        raise TransitionNotAllowed("该岗位已停招，不能再推荐", code="job_closed")
    if worker.employment_status not in SEEKING:
        raise TransitionNotAllowed(not_seeking_words(worker), code="not_seeking_work",
                                   details={"field": "worker_id"})
    if session.scalar(select(Referral.id).where(Referral.job_id == job.id, Referral.worker_id == worker.id)):
        raise Conflict(f"{worker.name} 已推荐过这个岗位", code="already_recommended")
    referral = Referral(job_id=job.id, worker_id=worker.id, state=ReferralState.recommended,
                        recommended_by_id=actor.id if actor else None, recommended_at=clock.now(),
                        note=(note or "").strip() or None)
    session.add(referral)
    record_assistance(session, scope, worker, actor=actor, kind=AssistanceKind.referral,
                      note=f"推荐岗位：{job.employer} {job.title}（{job.pay}）")
    return referral


def decide(session: Session, scope: LedgerScope, referral: Referral, *, actor: User | None, hired: bool,
           note: str | None = None, on_day: date | None = None) -> Referral:
    """The outcome of a recommendation. Hired: the worker becomes 稳定就业 at the employer, in the
    same transaction, with an assistance record saying so; the hire that fills the posting's
    openings closes it (停招), so nobody more is recommended to it. Recommendations made before
    may still be decided (an employer may take more than it asked for).

    The worker's row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one writer
    at a time anyway), and the recommendation read again under the lock: two outcomes for one
    person submitted at the same instant (two tabs, two processes) are decided one after the
    other, so the second sees the first's 录用上岗 and is refused in the same words as ever. No
    unique index can hold this rule: a person may have been hired through several recommendations
    (he left, then was placed again), and whether a hire still places him is the ledger's present
    (稳定就业 at that employer), kept in another table."""
    worker = session.get(Worker, referral.worker_id, with_for_update=True, populate_existing=True)
    job = session.get(JobPosting, referral.job_id)
    if worker is None or job is None:
        raise NotFound("推荐记录不存在")
    session.refresh(referral)  # decided meanwhile by the request the lock waited for?
    scope.require_edit(worker.village_code)
    if referral.state != ReferralState.recommended:
        raise TransitionNotAllowed("该推荐已有结果，不能再次登记", code="referral_decided")
    if hired:
        placed = queries.placements(session, [worker]).get(worker.id)
        if placed is not None:
            raise Conflict(placed_words(worker, *placed), code="already_placed",
                           details={"job_id": placed[1].id, "referral_id": placed[0].id})
    day = _day(on_day, born=worker.birth_year)
    asked = clock.local(referral.recommended_at).date()
    if day < asked:
        raise Invalid(f"日期 {day.isoformat()} 早于推荐日期 {asked.isoformat()}，请核对", details={"field": "on_day"})
    referral.state = ReferralState.hired if hired else ReferralState.rejected
    referral.decided_by_id, referral.decided_at = actor.id if actor else None, clock.now()
    referral.note = (note or "").strip() or referral.note
    if hired:
        worker.employment_status = EmploymentStatus.stable
        worker.employer = job.employer[:120]
        worker.work_place = work_place_between(worker.village_code, job.region_code)
        worker.needs_help = False
        worker.updated_at, worker.updated_by_id = clock.now(), actor.id if actor else None
        words = f"经推荐在{job.employer}上岗（{job.title}，{job.pay}）"
        session.flush()
        hired_so_far = session.scalar(select(func.count(Referral.id)).where(
            Referral.job_id == job.id, Referral.state == ReferralState.hired)) or 0
        if job.state == JobState.open and hired_so_far >= job.openings:
            job.state, job.updated_at = JobState.closed, clock.now()  # 招满: no more recommendations
    else:
        words = f"推荐{job.employer} {job.title}未录用" + (f"：{referral.note}" if referral.note else "")
    record_assistance(session, scope, worker, actor=actor, kind=AssistanceKind.referral, note=words, on_day=day)
    return referral


def placed_words(worker: Worker, referral: Referral, job: JobPosting) -> str:
    """Why a placed worker's other recommendation cannot end in 录用上岗 (the page says it on the row)."""
    on = clock.local(referral.decided_at).date().isoformat() if referral.decided_at else "此前"
    return (f"该人员已于 {on} 在 {job.employer} 上岗（岗位 #{job.id}），台账仍为稳定就业，不能再登记录用上岗；"
            f"如已离职，请先在台账中修改其就业状态")


def _participants(value: int | str | None, kind: ActivityKind, attendees: int) -> int:
    """参加人数: an activity people attend (guidance, training, job fair, troupe) had at least one,
    and at least the ledger workers ticked as attending; 帮扶台账 and 活动场所 may have none."""
    attended = kind in ATTENDED_AS
    if value is None or str(value).strip() == "":
        if attended:
            raise Invalid("请填写参加人数（至少 1 人）", details={"field": "participants"})
        return 0
    count = whole_number(value, "参加人数", "participants", low=1 if attended else 0, high=MAX_COUNT)
    if count < attendees:
        raise Invalid(f"参加人数 {count} 人少于勾选的台账参加人员（{attendees} 人）：请填写实际参加人数（至少 {attendees} 人）",
                      details={"field": "participants"})
    return count


def add_activity(session: Session, scope: LedgerScope, *, actor: User | None, village_code: str,
                 kind: ActivityKind | str, title: str, on_day: date | None = None,
                 participants: int | str | None = None, worker_ids: list[int] | None = None) -> Activity:
    """A six-ones activity of a village's station; listed attendees of a guidance, training, job
    fair or troupe activity get an assistance record each, and count among the participants
    (``_participants``: such an activity with nobody there is not held)."""
    station = station_of(session, village_code)
    scope.require_edit(station.village_code)
    try:
        kind = ActivityKind(kind)
    except ValueError:
        raise Invalid(f"活动类别「{kind}」无效，可选：{'、'.join(ACTIVITY_LABELS.values())}",
                      details={"field": "kind"}) from None
    title = (title or "").strip()
    if not title:
        raise Invalid("请填写活动名称", details={"field": "title"})
    ids = list(dict.fromkeys(worker_ids or []))
    attendees = list(session.scalars(select(Worker).where(Worker.id.in_(ids)))) if ids else []
    if len(attendees) != len(ids):
        raise NotFound("所选参加人员不在台账中")
    for worker in attendees:
        scope.require_edit(worker.village_code)
    if ids and kind not in ATTENDED_AS:
        raise Invalid(f"{ACTIVITY_LABELS[kind]}不登记参加人员", details={"field": "worker_ids"})
    count = _participants(participants, kind, len(attendees))
    activity = Activity(village_code=station.village_code, kind=kind, on_day=_day(on_day), title=title[:120],
                        participants=count, recorded_by_id=actor.id if actor else None, recorded_at=clock.now())
    session.add(activity)
    session.flush()
    for worker in attendees:
        session.add(ActivityWorker(activity_id=activity.id, worker_id=worker.id))
        record_assistance(session, scope, worker, actor=actor, kind=ATTENDED_AS[kind], on_day=activity.on_day,
                          note=f"参加{ACTIVITY_LABELS[kind]}：{activity.title}", activity_id=activity.id)
    session.flush()
    return activity


def delete_activity(session: Session, scope: LedgerScope, activity: Activity) -> None:
    """Remove an activity recorded by mistake, by someone whose scope covers its village: it no
    longer counts towards the six ones (六个一), and the assistance records it gave its attendees
    (参加…：…) go with it, as if it had never been recorded."""
    scope.require_edit(activity.village_code)
    session.execute(delete(Assistance).where(Assistance.activity_id == activity.id))
    session.execute(delete(ActivityWorker).where(ActivityWorker.activity_id == activity.id))
    session.delete(activity)
    session.flush()

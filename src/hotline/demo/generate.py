"""Synthetic demo tickets that live through the real lifecycle, with the clock moved to each step.

``generate`` plans a caseload over the past ``days`` days (places weighted by population, a daily
and weekly rhythm, channels, kinds, callers), then plays each ticket's life step by step: the clock
is frozen at the moment of each action and the ordinary functions of ``tickets.lifecycle`` do the
work, so events, due times, late stages and overdue tickets are all true. A step whose moment lies
after ``now`` never happens: recent tickets stay open wherever their life has got to.

Each ticket's life is a generator that yields the moment of its next action and performs that
action when resumed; a duplicate and its master run side by side, merged by time, so the master is
in whatever state it really is when the duplicate is merged into it.
"""

from __future__ import annotations

import heapq
import random
import time
from collections import Counter
from collections.abc import Callable, Generator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hotline.accounts.models import User
from hotline.accounts.service import add_user, hash_password
from hotline.demo import bursts
from hotline.demo import replies as R
from hotline.demo.caseload import Case, World, plan, weighted
from hotline.demo.fieldwork import generate_fieldwork
from hotline.directory.loader import read_csv
from hotline.kit import clock
from hotline.notices import events as notice_events
from hotline.tickets import lifecycle as L
from hotline.tickets import timeline
from hotline.tickets.models import Ticket, UnitRole
from hotline.tickets.queries import overdue_clause
from hotline.tickets.states import Status

BATCH = 200
MERGEABLE = (Status.registered, Status.dispatched, Status.accepted, Status.in_progress, Status.suspended,
             Status.return_requested, Status.replied)
REQUEST_DETOURS = ("return_before_accept", "return_after_accept", "extension")
SATISFACTION = (("satisfied", 0.80), ("basically_satisfied", 0.10), ("dissatisfied", 0.10))
SATISFACTION_AGAIN = (("satisfied", 0.85), ("basically_satisfied", 0.10), ("dissatisfied", 0.05))


# ---------------------------------------------------------------- staff


def load_staff(session: Session, password: str | None) -> int:
    """Create the demo accounts of ``staff.csv`` that do not exist yet; return how many were made.

    The shared demo password is hashed once (argon2 takes ~50 ms) and set on every new account."""
    hashed = hash_password(password) if password else None
    existing = set(session.scalars(select(User.username)))
    created = 0
    for row in read_csv("staff.csv"):
        if row["username"] in existing:
            continue
        user = add_user(session, username=row["username"], display_name=row["display_name"], role=row["role"],
                        unit_code=row["unit_code"] or None, phone=row.get("phone") or None)
        user.password_hash = hashed
        existing.add(row["username"])
        created += 1
    session.flush()
    return created


# ---------------------------------------------------------------- time


def _minutes(rng: random.Random, lo: float, hi: float) -> timedelta:
    return timedelta(minutes=rng.uniform(lo, hi))


def _within(rng: random.Random, start: datetime, due: datetime | None, lo: float, hi: float) -> datetime:
    """A moment in [lo, hi] of the time left before ``due``, skewed towards early."""
    if due is None or due <= start + timedelta(minutes=10):
        return start + _minutes(rng, 3, 40)
    return start + (due - start) * (lo + (hi - lo) * rng.random() ** 1.6)


def _late(rng: random.Random, start: datetime, due: datetime | None) -> datetime:
    base = max(start, due or start)
    span = (due - start) if due and due > start else timedelta(hours=6)
    return base + max(timedelta(minutes=30), span * rng.uniform(0.15, 1.2))


def _office(rng: random.Random, t: datetime, due: datetime | None, urgent: bool) -> datetime:
    """Units work office hours: normal work that falls at night waits for the morning, unless that
    would miss the deadline (then the unit's duty staff do it)."""
    if urgent:
        return t
    local = clock.local(t)
    if 8 <= local.hour < 18:
        return t
    morning = local.replace(hour=8, minute=0, second=0, microsecond=0)
    if local.hour >= 18:
        morning += timedelta(days=1)
    shifted = morning + _minutes(rng, 0, 100)
    return shifted if due is None or shifted <= due else t


def _daytime(rng: random.Random, t: datetime) -> datetime:
    """Callbacks are made between 9:00 and 20:00."""
    local = clock.local(t)
    if 9 <= local.hour < 20:
        return t
    morning = local.replace(hour=9, minute=0, second=0, microsecond=0)
    if local.hour >= 20:
        morning += timedelta(days=1)
    return morning + _minutes(rng, 0, 150)


def _at(w: World, c: Case, t: datetime) -> datetime:
    """The moment of the case's next step: after its previous one and, for a held ticket, early
    enough that its life reaches the held status before ``now``."""
    if c.last is None:
        c.last = t
        return t
    if c.hold is not None:
        t = min(t, c.last + (w.now - c.last) * w.rng.uniform(0.1, 0.4))
    c.last = max(t, c.last + timedelta(seconds=1))
    return c.last


# ---------------------------------------------------------------- a ticket's life


Life = Generator[datetime, None, Any]


def _life(w: World, c: Case) -> Life:
    rng = w.rng
    yield _at(w, c, c.received)
    c.ticket = _register(w, c)
    set_committed_value(c.ticket, "units", [])  # a new ticket has no units: spare the lazy load
    agent = w.agent()
    if c.mode == "direct":
        yield _at(w, c, c.received + _minutes(rng, 1.5, 8))
        answer = R.direct_answer(rng, c.text.category_code, county=c.where.place.county)
        L.answer_directly(w.session, c.ticket, actor=agent, answer=answer)
        w.counts["answered_directly"] += 1
    elif c.mode == "handoff":
        yield _at(w, c, c.received + _minutes(rng, 0.5, 3))
        L.hand_off(w.session, c.ticket, actor=agent, to=c.handoff[0], note=c.handoff[1])
        w.counts["handed_off"] += 1
    elif c.mode == "refuse":
        yield _at(w, c, c.received + _minutes(rng, 2, 10))
        L.refuse(w.session, c.ticket, actor=agent, reason=rng.choice(R.REFUSAL_REASONS))
        w.counts["refused"] += 1
    elif c.mode == "dup" and (yield from _merge(w, c)):
        pass
    else:
        yield from _work(w, c)
    yield from _archive(w, c)


def _register(w: World, c: Case) -> Ticket:
    who = c.caller
    return L.register(
        w.session, actor=w.agent() if c.channel in ("phone", "letter") else None, channel=c.channel,
        kind=c.text.kind, category_code=c.text.category_code, urgency=c.text.urgency, region_code=c.where.code,
        content=c.text.content, title=c.text.title, caller_name=who.name, caller_phone=who.phone,
        caller_confidential=who.confidential, caller_anonymous=who.anonymous, address=c.where.label,
    )


def _merge(w: World, c: Case) -> Life:
    yield _at(w, c, c.received + _minutes(w.rng, 8, 45))
    master = c.master.ticket if c.master else None
    if master is None or master.status not in MERGEABLE:
        return False
    L.merge(w.session, c.ticket, actor=w.dispatcher(), master=master, note="同一问题多人反映，并入主工单办理")
    w.counts["merged"] += 1
    return True


def _work(w: World, c: Case) -> Life:
    rng, tk = w.rng, c.ticket
    lead, co = w.suggest(tk.category_code, tk.region_code)
    if lead is None:
        lead, co = w.gov.get(c.where.county_code), []
    due = tk.dispatch_due_at
    if c.late == "dispatch":
        t = _late(rng, c.received, due)
    elif c.channel == "phone":
        t = c.received + _minutes(rng, 3, 30)
    else:
        t = _within(rng, c.received, due, 0.05, 0.8)
    yield _at(w, c, t)
    L.dispatch(w.session, tk, actor=w.dispatcher(), lead_unit_id=lead, co_unit_ids=co)
    yield from _handle(w, c, first=True)
    yield from _callback(w, c)


def _handle(w: World, c: Case, *, first: bool) -> Life:
    """The units' work from dispatch (or re-dispatch, or reopening) to an accepted reply."""
    rng, tk, s = w.rng, c.ticket, w.session
    lead = tk.lead_unit_id
    co = [u.unit_id for u in tk.active_units() if u.role == UnitRole.co]
    detour = c.detour if first else None
    late = c.late if first else None
    if detour == "return_before_accept" and (yield from _return(w, c, lead)):
        yield from _handle(w, c, first=False)
        return
    start = tk.dispatched_at
    t = _late(rng, start, tk.accept_due_at) if late == "accept" else \
        _office(rng, _within(rng, start, tk.accept_due_at, 0.02, 0.6), tk.accept_due_at, c.urgent)
    yield _at(w, c, t)
    handler = w.handler(lead)
    L.accept(s, tk, actor=handler)
    if detour == "return_after_accept" and (yield from _return(w, c, lead)):
        yield from _handle(w, c, first=False)
        return
    accepted = c.last
    t_contact = _late(rng, accepted, tk.contact_due_at) if late == "contact" else \
        _office(rng, _within(rng, accepted, tk.contact_due_at, 0.05, 0.7), tk.contact_due_at, c.urgent)
    for unit in co:
        yield _at(w, c, accepted + (t_contact - accepted) * rng.uniform(0.05, 0.9))
        L.accept(s, tk, actor=w.handler(unit), unit_id=unit)
    yield _at(w, c, t_contact)
    L.record_contact(s, tk, actor=handler, note=rng.choice(R.CONTACT_NOTES))
    if detour in ("suspend", "extension"):
        yield from (_suspend if detour == "suspend" else _extension)(w, c, handler)
    yield from _reply(w, c, lead, co, handler, late=late == "reply")
    yield _at(w, c, _office(rng, c.last + _minutes(rng, 20, 300), None, c.urgent))
    if detour == "send_back":
        L.send_back_reply(s, tk, actor=w.dispatcher(), reason=rng.choice(R.SEND_BACK_REASONS))
        w.counts["sent_back"] += 1
        yield _at(w, c, _office(rng, c.last + _minutes(rng, 120, 1440), None, c.urgent))
        L.reply(s, tk, actor=handler, text=_reply_text(w, c, lead))
        yield _at(w, c, _office(rng, c.last + _minutes(rng, 20, 300), None, c.urgent))
    L.accept_reply(s, tk, actor=w.dispatcher())


def _reply_text(w: World, c: Case, unit: int) -> str:
    code = c.text.category_code
    return R.unit_reply(w.rng, code, c.text.kind, place=c.where.short, unit=w.unit_names.get(unit, ""),
                        days=w.rng.randint(3, 10), county=c.where.place.county, topic=w.category_names.get(code, ""))


def _reply(w: World, c: Case, lead: int, co: list[int], handler: User | None, *, late: bool) -> Life:
    rng, tk = w.rng, c.ticket
    start = c.last
    t = _late(rng, start, tk.reply_due_at) if late else \
        _office(rng, _within(rng, start, tk.reply_due_at, 0.1, 0.9), tk.reply_due_at, c.urgent)
    for unit in co:
        part = tk.task_of(unit)
        if part is None or part.accepted_at is None or rng.random() < 0.15:
            continue  # some co-handlers never send their part
        yield _at(w, c, start + (t - start) * rng.uniform(0.3, 0.95))
        L.reply(w.session, tk, actor=w.handler(unit), text=_reply_text(w, c, unit), unit_id=unit)
    yield _at(w, c, t)
    L.reply(w.session, tk, actor=handler, text=_reply_text(w, c, lead))


def _return(w: World, c: Case, lead: int) -> Life:
    """退单: the unit says it is not theirs; the centre re-dispatches (mostly) or rejects."""
    rng, tk = w.rng, c.ticket
    yield _at(w, c, _office(rng, _within(rng, c.last, tk.accept_due_at, 0.1, 0.8), None, c.urgent))
    L.request_return(w.session, tk, actor=w.handler(lead), reason=rng.choice(R.RETURN_REASONS))
    w.session.flush()
    w.counts["returns"] += 1
    yield _at(w, c, c.last + _minutes(rng, 30, 360))
    other = _other_unit(w, c, lead)
    if other is not None and rng.random() < 0.7:
        L.redispatch(w.session, tk, actor=w.dispatcher(), lead_unit_id=other, note="退单理由成立，改派属地处理")
        w.counts["redispatched"] += 1
        w.session.flush()
        return True
    L.reject_return(w.session, tk, actor=w.dispatcher(), reason=rng.choice(R.REJECT_RETURN_REASONS))
    w.session.flush()
    return False


def _other_unit(w: World, c: Case, lead: int) -> int | None:
    for unit in (w.township_unit.get(c.where.township_code or ""), w.gov.get(c.where.county_code)):
        if unit is not None and unit != lead:
            return unit
    return None


def _suspend(w: World, c: Case, handler: User | None) -> Life:
    rng, tk = w.rng, c.ticket
    yield _at(w, c, _within(rng, c.last, tk.reply_due_at, 0.05, 0.4))
    L.suspend(w.session, tk, actor=handler, reason=rng.choice(R.SUSPEND_REASONS))
    w.counts["suspended"] += 1
    yield _at(w, c, c.last + timedelta(hours=rng.uniform(20, 120)))
    L.resume(w.session, tk, actor=handler, note="来电人已返回，继续办理")


def _extension(w: World, c: Case, handler: User | None) -> Life:
    rng, tk = w.rng, c.ticket
    yield _at(w, c, _office(rng, _within(rng, c.last, tk.reply_due_at, 0.3, 0.7), tk.reply_due_at, False))
    amount = rng.choice((3, 5, 5, 7, 10))
    L.request_extension(w.session, tk, actor=handler, amount=amount, reason=rng.choice(R.EXTENSION_REASONS))
    w.session.flush()
    w.counts["extensions"] += 1
    yield _at(w, c, _office(rng, c.last + _minutes(rng, 30, 480), None, False))
    if rng.random() < 0.7:
        L.approve_extension(w.session, tk, actor=w.dispatcher(), note="同意延期")
        w.counts["extensions_approved"] += 1
    else:
        L.refuse_extension(w.session, tk, actor=w.dispatcher(), reason=rng.choice(R.REFUSE_EXTENSION_REASONS))
    w.session.flush()


def _callback(w: World, c: Case) -> Life:
    """回访 by an agent the day after; a bad verdict sends the ticket back once (重办)."""
    rng, tk, s = w.rng, c.ticket, w.session
    for _round in range(2):
        agent = w.agent()
        t = _daytime(rng, c.last + _minutes(rng, 120, 1500))
        if c.caller.phone is None:
            yield _at(w, c, t)
            L.record_callback(s, tk, actor=agent, reached=False, comment="匿名诉求，无回访电话")
            yield _at(w, c, c.last + _minutes(rng, 1, 10))
            L.close(s, tk, actor=agent, reason=R.ANONYMOUS_NOT_REACHED)
            return
        for attempt in range(3):
            yield _at(w, c, t)
            if c.hold == Status.callback_done or rng.random() < 0.88:
                break
            L.record_callback(s, tk, actor=agent, reached=False, comment=rng.choice(R.NOT_REACHED_COMMENTS))
            w.counts["callbacks_not_reached"] += 1
            if attempt == 2:
                yield _at(w, c, c.last + _minutes(rng, 5, 60))
                L.close(s, tk, actor=agent, reason=R.CLOSE_NOT_REACHED)
                w.counts["closed_not_reached"] += 1
                return
            t = _daytime(rng, c.last + _minutes(rng, 180, 1440))
        verdict = weighted(rng, SATISFACTION if tk.reopen_count == 0 else SATISFACTION_AGAIN)
        resolved = {"satisfied": True, "basically_satisfied": rng.random() < 0.85}.get(verdict, rng.random() < 0.25)
        comment = rng.choice({"satisfied": R.SATISFIED_COMMENTS, "basically_satisfied": R.BASIC_COMMENTS}
                              .get(verdict, R.DISSATISFIED_COMMENTS))
        L.record_callback(s, tk, actor=agent, reached=True, resolved=resolved, satisfaction=verdict, comment=comment)
        w.counts[f"callback_{verdict}"] += 1
        if not L.callback_negative(tk):
            yield _at(w, c, c.last + _minutes(rng, 1, 20))
            L.close(s, tk, actor=agent)
            return
        yield _at(w, c, c.last + _minutes(rng, 10, 240))
        if tk.reopen_count > 0 or rng.random() < 0.2:
            L.close(s, tk, actor=w.dispatcher(), reason=rng.choice(R.CLOSE_DESPITE_REASONS))
            return
        L.reopen(s, tk, actor=w.dispatcher())
        w.counts["reopened"] += 1
        yield from _handle(w, c, first=False)


def _archive(w: World, c: Case) -> Life:
    tk = c.ticket
    if tk is None or tk.closed_at is None or w.rng.random() < 0.4:
        return
    at = _office(w.rng, tk.closed_at + timedelta(days=w.rng.uniform(30, 40)), None, False)
    if at <= w.now:
        yield _at(w, c, at)
        L.archive(w.session, tk, actor=w.dispatcher())
        w.counts["archived"] += 1


# ---------------------------------------------------------------- playing the lives


Heap = list[tuple[datetime, int, Life]]


def _step(w: World, group: list[Case], heap: Heap, at: datetime, i: int, life: Life) -> None:
    """Play one step at its moment; put the life back unless it has ended or reached its hold."""
    if at > w.now:
        life.close()
        return
    clock.freeze(at)
    try:
        nxt = life.send(None)
    except StopIteration:
        return
    case = group[i]
    if case.hold is not None and case.ticket is not None and case.ticket.status == case.hold:
        life.close()
        return
    heapq.heappush(heap, (nxt, i, life))


def _register_all(w: World, groups: list[list[Case]]) -> list[Heap]:
    """Register the groups' tickets, each at its own moment and in the order of those moments (so
    the day's ticket numbers follow the time of the call, duplicates too), and return their lives,
    paused: one heap per group."""
    heaps: list[Heap] = [[] for _ in groups]
    first: list[tuple[datetime, int, int, Life]] = []
    for g, group in enumerate(groups):
        for i, case in enumerate(group):
            life = _life(w, case)
            first.append((next(life), g, i, life))
    first.sort(key=lambda x: x[:3])
    for at, g, i, life in first:
        _step(w, groups[g], heaps[g], at, i, life)
    return heaps


def _play(w: World, group: list[Case], heap: Heap) -> None:
    """Run the lives of a master and its duplicates, interleaved by time, up to ``now``."""
    while heap:
        _step(w, group, heap, *heapq.heappop(heap))


def _batches(cases: list[Case]) -> Generator[list[Case], None, None]:
    """The cases in runs of about ``BATCH``, each run ending only where no duplicate of its cases
    (registered with its master's run) comes after the next run's first call: so every ticket is
    registered in the order of the calls, and the day's numbers follow it."""
    start = 0
    while start < len(cases):
        end = min(start + BATCH, len(cases))
        latest = max((d.received for c in cases[start:end] for d in c.dups), default=None)
        while end < len(cases) and latest is not None and latest > cases[end].received:
            latest = max([latest, *(d.received for d in cases[end].dups)])
            end += 1
        yield cases[start:end]
        start = end


def _play_batch(w: World, batch: list[Case]) -> None:
    """All registrations first, then all the lives: the lifecycle flushes on every registration,
    so this way one flush at the end writes the batch's later steps together.

    Autoflush is off: it would flush before each of the lifecycle's few queries. The lives flush
    themselves after every change to a return or extension request, the only pending state those
    queries read."""
    with w.session.no_autoflush:
        groups = [[case, *case.dups] for case in batch]
        heaps = _register_all(w, groups)
        # Lives with requests go first, while their flushes have little else to write.
        order = sorted(range(len(groups)), key=lambda i: groups[i][0].detour not in REQUEST_DETOURS)
        for i in order:
            _play(w, groups[i], heaps[i])


def generate(
    session_factory: Callable[[], Session],
    *,
    tickets: int = 5000,
    days: int = 90,
    seed: int = 12345,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    incidents: bool = False,
) -> dict[str, Any]:
    """Create ``tickets`` demo tickets received over the past ``days`` days; return a summary.

    ``incidents``: add the bursts of calls of :mod:`hotline.demo.bursts` (a proposed, a confirmed
    and a dismissed incident; their tickets come on top of ``tickets``).

    Deterministic for a seed and ``now``. Staff accounts are used when present (``load_staff``);
    without them the platform itself acts. The clock is left unfrozen, even on error."""
    started = time.monotonic()
    now = clock.aware(now) if now is not None else clock.now()
    rng = random.Random(seed)
    session = session_factory()
    try:
        w = World(session, rng, now, days)
        cases = plan(w, tickets)
        planned = bursts.plan(w, seed) if incidents else []
        if planned:
            cases = sorted(cases + [c for p in planned for c in p.cases], key=lambda c: c.received)
            tickets += sum(1 + len(c.dups) for p in planned for c in p.cases)
        session.close()
        statuses: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        done = 0
        for batch in _batches(cases):
            session = w.session = session_factory()
            # History is not news: no SMS or notices for the past (callback tasks are kept).
            with timeline.muted(notice_events.on_event):
                _play_batch(w, batch)
            session.commit()
            for case in batch:
                for t in (case, *case.dups):
                    if t.ticket is not None:
                        statuses[t.ticket.status.value] += 1
                        kinds[t.ticket.kind] += 1
                        done += 1
            session.close()
            if progress is not None:
                progress(done, tickets)
        clock.freeze(None)
        session = session_factory()
        field = generate_fieldwork(session, seed=seed, now=now)  # the 县底镇 emergency harvest (抢收抢种)
        session.commit()
        with timeline.muted(notice_events.on_event):  # the decisions and notices are history too
            found = bursts.decide(session, planned, now) if planned else {}
        session.commit()
        overdue = session.scalar(select(func.count()).select_from(Ticket).where(overdue_clause(now))) or 0
        session.close()
    except BaseException:
        session.rollback()
        session.close()
        raise
    finally:
        clock.freeze(None)
    return {
        "tickets": done,
        "by_status": dict(sorted(statuses.items())),
        "by_kind": dict(sorted(kinds.items())),
        **{k: w.counts[k] for k in ("answered_directly", "handed_off", "refused", "returns", "redispatched",
                                    "extensions", "extensions_approved", "suspended", "sent_back", "merged",
                                    "reopened", "callback_dissatisfied", "callbacks_not_reached",
                                    "closed_not_reached", "archived")},
        "overdue_now": overdue,
        "from": (now - timedelta(days=days)).isoformat(),
        "to": now.isoformat(),
        "fieldwork": field,
        **({"incidents": found} if incidents else {}),
        "elapsed_seconds": round(time.monotonic() - started, 2),
    }

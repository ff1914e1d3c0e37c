"""Builders and personas for tests: tickets in any status, users of every role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hotline.accounts.models import Role, User
from hotline.accounts.service import add_user
from hotline.directory.models import Unit
from hotline.tickets import lifecycle
from hotline.tickets.models import Ticket
from hotline.tickets.states import Status

ZHULV = "140828102207"  # 夏县裴介镇朱吕村
XIAXIAN = "140828"


def unit_id(session: Session, code: str) -> int:
    uid = session.scalar(select(Unit.id).where(Unit.code == code))
    assert uid is not None, code
    return uid


@dataclass
class Personas:
    agent: User
    dispatcher: User
    handler_a: User  # 夏县水利局: lead unit of the 朱吕村 valve-well leak (dispatch catalogue)
    handler_a_co: User  # 夏县朱吕集中供水站: its co-handler
    handler_b: User  # 夏县住房和城乡建设局: another unit
    supervisor: User
    admin: User
    unit_a: int
    unit_a_co: int
    unit_b: int


def make_personas(session: Session) -> Personas:
    ua, uc, ub = (unit_id(session, c) for c in ("xiaxian-water", "xiaxian-water-zhulv", "xiaxian-housing"))

    def user(name: str, role: Role, unit: str | None = None) -> User:
        return add_user(session, username=name, display_name=name, role=role, unit_code=unit)

    return Personas(
        agent=user("t-agent", Role.agent, "yuncheng-12345"),
        dispatcher=user("t-dispatcher", Role.dispatcher, "yuncheng-12345"),
        handler_a=user("t-handler-a", Role.handler, "xiaxian-water"),
        handler_a_co=user("t-handler-a-co", Role.handler, "xiaxian-water-zhulv"),
        handler_b=user("t-handler-b", Role.handler, "xiaxian-housing"),
        supervisor=user("t-supervisor", Role.supervisor, "yuncheng-12345"),
        admin=user("t-admin", Role.admin),
        unit_a=ua,
        unit_a_co=uc,
        unit_b=ub,
    )


LEAK = "夏县裴介镇朱吕村村东的供水闸阀井漏水了，整个供水站停水，附近几个村都没水吃，请尽快派人抢修。"


def register(session: Session, p: Personas, **overrides: Any) -> Ticket:
    fields: dict[str, Any] = dict(
        actor=p.agent, channel="phone", kind="help", category_code="0103", urgency="urgent",
        region_code=ZHULV, content=LEAK, caller_name="张先生", caller_phone="13803590001",
    )
    fields.update(overrides)
    return lifecycle.register(session, **fields)


# The shortest path of actions to each status, from registered.
PATHS: dict[Status, list[str]] = {
    Status.registered: [],
    Status.dispatched: ["dispatch"],
    Status.accepted: ["dispatch", "accept"],
    Status.in_progress: ["dispatch", "accept", "contact"],
    Status.suspended: ["dispatch", "accept", "contact", "suspend"],
    Status.return_requested: ["dispatch", "accept", "request_return"],
    Status.replied: ["dispatch", "accept", "contact", "reply"],
    Status.callback_pending: ["dispatch", "accept", "contact", "reply", "accept_reply"],
    Status.callback_done: ["dispatch", "accept", "contact", "reply", "accept_reply", "callback_bad"],
    Status.closed: ["dispatch", "accept", "contact", "reply", "accept_reply", "callback_good", "close"],
    Status.handed_off: ["hand_off"],
    Status.refused: ["refuse"],
    Status.archived: ["dispatch", "accept", "contact", "reply", "accept_reply", "callback_good", "close", "archive"],
}


def step(session: Session, p: Personas, ticket: Ticket, action: str) -> None:
    L = lifecycle
    match action:
        case "dispatch":
            L.dispatch(session, ticket, actor=p.dispatcher, lead_unit_id=p.unit_a, co_unit_ids=[p.unit_a_co])
        case "accept":
            L.accept(session, ticket, actor=p.handler_a)
        case "contact":
            L.record_contact(session, ticket, actor=p.handler_a, note="电话联系来电人，已约定上门时间")
        case "suspend":
            L.suspend(session, ticket, actor=p.handler_a, reason="来电人外出，约定下周再处理")
        case "request_return":
            L.request_return(session, ticket, actor=p.handler_a, reason="不属于本单位职责")
        case "reply":
            L.reply(session, ticket, actor=p.handler_a, text="已更换闸阀阀杆和减压阀，恢复供水")
        case "accept_reply":
            L.accept_reply(session, ticket, actor=p.dispatcher)
        case "callback_good":
            L.record_callback(session, ticket, actor=p.agent, reached=True, resolved=True, satisfaction="satisfied")
        case "callback_bad":
            L.record_callback(session, ticket, actor=p.agent, reached=True, resolved=False,
                              satisfaction="dissatisfied", comment="水还是时有时无")
        case "close":
            L.close(session, ticket, actor=p.agent)
        case "archive":
            L.archive(session, ticket, actor=p.dispatcher)
        case "hand_off":
            L.hand_off(session, ticket, actor=p.agent, to="119", note="有人员被困")
        case "refuse":
            L.refuse(session, ticket, actor=p.agent, reason="涉及诉讼程序，不属于热线受理范围")
        case _:
            raise ValueError(action)


def make_ticket(session: Session, p: Personas, status: Status = Status.registered, **overrides: Any) -> Ticket:
    ticket = register(session, p, **overrides)
    for action in PATHS[status]:
        step(session, p, ticket, action)
    session.flush()
    assert ticket.status == status
    return ticket


def make_failed_messages(session: Session, count: int, *, start: datetime, prefix: str = "failed") -> list[int]:
    """``count`` SMS set aside after failing (state dead), written in one INSERT: two a minute from
    ``start`` (so pairs share a creation time and the id decides between them). Returns their ids
    newest first, the order the outbox lists them in."""
    from hotline.notify.models import MessageChannel, MessageState, OutboxMessage

    rows = [{"key": f"{prefix}-{i}", "channel": MessageChannel.sms, "recipient": f"+8613803{i:06d}",
             "template_code": "caller.receipt", "subject": "受理回执", "body": f"第 {i} 条", "urgent": False,
             "state": MessageState.dead, "attempts": 8, "last_error": f"网关错误 {i}",
             "not_before": start + timedelta(minutes=i // 2), "created_at": start + timedelta(minutes=i // 2)}
            for i in range(count)]
    session.execute(insert(OutboxMessage), rows)
    found = session.execute(select(OutboxMessage.id, OutboxMessage.created_at)
                            .where(OutboxMessage.key.startswith(f"{prefix}-")))
    return [i for i, _ in sorted(found, key=lambda r: (r[1], r[0]), reverse=True)]

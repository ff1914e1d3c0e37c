"""Ticket statuses and the allowed transitions: the graph every status change must follow."""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    registered = "registered"  # 受理: waiting to be answered, handed off or dispatched
    dispatched = "dispatched"  # 已派单: waiting for the lead unit to accept (签收)
    accepted = "accepted"  # 已签收
    in_progress = "in_progress"  # 办理中: the unit has contacted the caller
    suspended = "suspended"  # 挂起: clock paused, waiting on the caller
    return_requested = "return_requested"  # 退单申请: waiting for the centre's review
    replied = "replied"  # 已反馈: reply waiting for the centre's review
    callback_pending = "callback_pending"  # 待回访
    callback_done = "callback_done"  # 已回访: outcome recorded, waiting for close or reopen
    closed = "closed"  # 办结
    handed_off = "handed_off"  # 转110/119/120/122
    refused = "refused"  # 不予受理
    merged = "merged"  # 已并单 into a master ticket
    archived = "archived"  # 归档


STATUS_LABELS: dict[Status, str] = {
    Status.registered: "已受理",
    Status.dispatched: "待签收",
    Status.accepted: "已签收",
    Status.in_progress: "办理中",
    Status.suspended: "已挂起",
    Status.return_requested: "退单待审",
    Status.replied: "反馈待审",
    Status.callback_pending: "待回访",
    Status.callback_done: "已回访",
    Status.closed: "已办结",
    Status.handed_off: "已转应急",
    Status.refused: "不予受理",
    Status.merged: "已并单",
    Status.archived: "已归档",
}

S = Status
WORKING = (S.dispatched, S.accepted, S.in_progress)

# action name -> (statuses it may start from, status it leads to; None = back to the saved status)
TRANSITIONS: dict[str, tuple[tuple[Status, ...], Status | None]] = {
    "answer_directly": ((S.registered,), S.closed),
    "hand_off": ((S.registered,), S.handed_off),
    "refuse": ((S.registered,), S.refused),
    "dispatch": ((S.registered,), S.dispatched),
    "accept": ((S.dispatched,), S.accepted),
    "record_contact": ((S.accepted, S.in_progress), S.in_progress),
    "request_return": (WORKING, S.return_requested),
    "redispatch": ((S.return_requested,), S.dispatched),
    "reject_return": ((S.return_requested,), None),
    "suspend": ((S.accepted, S.in_progress), S.suspended),
    "resume": ((S.suspended,), None),
    "reply": ((S.in_progress,), S.replied),
    "accept_reply": ((S.replied,), S.callback_pending),
    "send_back_reply": ((S.replied,), S.in_progress),
    "record_callback": ((S.callback_pending,), S.callback_done),
    "close": ((S.callback_done, S.callback_pending), S.closed),
    "reopen": ((S.callback_done,), S.dispatched),
    "merge": ((S.registered, S.dispatched, S.accepted, S.in_progress), S.merged),
    "archive": ((S.closed, S.handed_off, S.refused, S.merged), S.archived),
}

# Actions that record something without changing the status.
NON_TRANSITIONS = (
    "register",
    "accept_part",
    "reply_part",
    "request_extension",
    "approve_extension",
    "refuse_extension",
    "callback_attempt",
    "recompute_due",
    "note",
    "incident",
    "incident_notice",
    "assessment",
)

ACTION_LABELS: dict[str, str] = {
    "register": "受理",
    "answer_directly": "直接答复",
    "hand_off": "转应急部门",
    "refuse": "不予受理",
    "dispatch": "派单",
    "accept": "签收",
    "accept_part": "协办签收",
    "record_contact": "联系来电人",
    "request_return": "申请退单",
    "redispatch": "改派",
    "reject_return": "驳回退单",
    "suspend": "挂起",
    "resume": "恢复办理",
    "request_extension": "申请延期",
    "approve_extension": "批准延期",
    "refuse_extension": "不予延期",
    "reply": "提交反馈",
    "reply_part": "协办反馈",
    "accept_reply": "审核通过",
    "send_back_reply": "退回重办",
    "callback_attempt": "回访未联系上",
    "record_callback": "回访",
    "close": "办结",
    "reopen": "重办",
    "merge": "并单",
    "archive": "归档",
    "recompute_due": "重算时限",
    "note": "备注",
    "incident": "关联突发事件",
    "incident_notice": "突发事件公告",
    "assessment": "考核认定",
    # Supervision: events only, never a status change.
    "warn": "时限预警",
    "overdue": "超期",
    "urge": "催办",
    "escalate": "升级督办",
    "escalate_parent": "上级督办",
    "supervise": "督办",
    "answer_supervision": "答复督办",
    "supervision_overdue": "督办逾期",
    "callback_scheduled": "安排回访",
}

OPEN = frozenset(
    {S.registered, S.dispatched, S.accepted, S.in_progress, S.suspended, S.return_requested, S.replied,
     S.callback_pending, S.callback_done}
)
FINAL = frozenset({S.closed, S.handed_off, S.refused, S.merged, S.archived})


def allowed_actions(status: Status) -> list[str]:
    return [name for name, (sources, _) in TRANSITIONS.items() if status in sources]


def successors(status: Status) -> set[Status]:
    """Every status reachable in one step (used by the invariant tests)."""
    out: set[Status] = set()
    for sources, target in TRANSITIONS.values():
        if status in sources and target is not None:
            out.add(target)
    return out

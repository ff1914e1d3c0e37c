"""What each message template is, in words an admin reads: 「受理回执短信（来电人）」 for
``caller.receipt``. One table for every page that names a template (the templates page and the
failed messages); a test keeps it covering every shipped template."""

from __future__ import annotations

TEMPLATE_LABELS = {
    "caller.receipt": "受理回执短信（来电人）",
    "caller.dispatched": "转办通知短信（来电人）",
    "caller.reply": "答复通知短信（来电人）",
    "caller.callback": "回访提醒短信（来电人）",
    "caller.closed": "办结通知短信（来电人）",
    "caller.incident_notice": "突发事件公告短信（来电人）",
    "caller.handed_off": "转应急部门通知短信（来电人）",
    "caller.refused": "不予受理通知短信（来电人）",
    "caller.query_codes": "找回查询码短信（来电人）",
    "unit.dispatch": "派单通知（承办单位）",
    "unit.warning": "即将超期提醒（承办单位）",
    "unit.overdue": "超期通知（承办单位）",
    "unit.urge": "超期催办通知（承办单位）",
    "unit.urge_early": "时限内催办通知（承办单位）",
    "unit.supervision": "督办通知（承办单位）",
    "unit.reopened": "重办通知（承办单位）",
    "unit.escalation": "下级单位超期通知（上级单位）",
    "supervisor.escalation": "超期升级提醒（督办员）",
    "supervisor.order_overdue": "督办单逾期提醒（督办员）",
    "supervisor.order_answered": "督办单已答复（督办员）",
}


def template_label(code: str) -> str:
    """The template's name in words; an unknown code (a template added by hand) stands for itself."""
    return TEMPLATE_LABELS.get(code, code)


# What each placeholder stands for, to name one an admin's text leaves out.
PLACEHOLDER_LABELS = {
    "ticket_number": "工单号", "query_code": "查询码", "unit_name": "承办单位", "deadline": "时限",
    "reply": "答复内容", "title": "工单标题", "stage": "环节", "level": "督办级别", "note": "意见",
    "reason": "原因", "notice": "公告内容", "service": "应急电话", "service_name": "应急部门",
    "left": "剩余时间", "answer": "答复内容", "timing": "按期或逾期",
    "tickets": "工单号及查询码",
}


def placeholder_label(name: str) -> str:
    """'{query_code}（查询码）', or the bare placeholder where it has no label."""
    label = PLACEHOLDER_LABELS.get(name)
    return f"{{{name}}}" + (f"（{label}）" if label else "")

"""Templates: one Jinja2 environment from the package, Chinese filters for times and statuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm.exc import DetachedInstanceError

from hotline.accounts.models import ROLE_LABELS, Role, User
from hotline.employment.scope import takes_part
from hotline.fieldwork.access import takes_part as field_work_part
from hotline.kit import clock
from hotline.tickets.states import STATUS_LABELS, Status

HERE = Path(__file__).parent
env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)

# Navigation by role: (path, label). The first entry is the role's home.
NAV: dict[Role, list[tuple[str, str]]] = {role: [("/tickets", "工单查询")] for role in Role}
NAV[Role.agent].insert(0, ("/agent/intake", "受理"))
NAV[Role.dispatcher].insert(0, ("/dispatch", "派单"))
NAV[Role.admin].append(("/dispatch", "派单"))
NAV[Role.handler].insert(0, ("/unit", "本单位工单"))
NAV[Role.agent].insert(1, ("/callbacks", "回访"))
NAV[Role.dispatcher].insert(1, ("/callbacks", "回访"))
NAV[Role.supervisor].insert(0, ("/supervision", "督办看板"))
NAV[Role.admin].append(("/supervision", "督办看板"))
NAV[Role.admin].insert(0, ("/admin", "系统管理"))
NAV[Role.supervisor].insert(1, ("/incidents", "突发事件"))
NAV[Role.dispatcher].append(("/incidents", "突发事件"))
NAV[Role.admin].append(("/incidents", "突发事件"))
for _role in (Role.supervisor, Role.dispatcher, Role.admin):
    NAV[_role].append(("/analytics", "数据分析"))
for _role in (Role.supervisor, Role.admin):
    NAV[_role].append(("/reports", "统计报表"))
for _role in (Role.handler, Role.supervisor, Role.admin):
    NAV[_role].append(("/employment", "就业服务站"))
    NAV[_role].append(("/fieldwork", "抢收抢种"))
# Entries shown only to the users a rule admits: 就业服务站 to village, township and 人社局 handlers
# (not a water bureau's), supervisors and admins, as ``employment.scope`` decides; 抢收抢种 to township
# and village handlers, supervisors and admins, as ``fieldwork.access`` decides.
NAV_ONLY: dict[str, Callable[[User], bool]] = {"/employment": takes_part, "/fieldwork": field_work_part}
for _items in NAV.values():
    _items.append(("/knowledge", "知识库"))


def when(value: datetime | str | None, fmt: str = "%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return clock.local(value).strftime(fmt)


def due(value: datetime | str | None) -> str:
    """A deadline: '12-02 24:00' for the end of 2 December, the year added when not this year's."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return clock.deadline_text(value)


def status_label(value: str | Status | None) -> str:
    return STATUS_LABELS.get(Status(value), str(value)) if value else ""


env.filters["when"] = when
env.filters["due"] = due
env.filters["status_label"] = status_label
env.globals["ROLE_LABELS"] = ROLE_LABELS


def _nav(user: User | None) -> list[tuple[str, str]]:
    if user is None:
        return []
    out = []
    for href, label in NAV.get(user.role, []):
        try:
            shown = href not in NAV_ONLY or NAV_ONLY[href](user)
        except DetachedInstanceError:  # a page rendered after its session closed: leave the entry out
            shown = False
        if shown:
            out.append((href, label))
    return out


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page; ``request.state`` carries the signed-in user and CSRF token when there is one."""
    user = getattr(request.state, "user", None)
    html = env.get_template(template).render(
        request=request, user=user, csrf=getattr(request.state, "csrf", ""),
        nav=_nav(user), path=request.url.path, **context)
    response = HTMLResponse(html, status_code=status_code)
    if request.method == "POST" and request.headers.get("HX-Request"):
        # A form's refusal (or result) drawn in place: the address bar stays where the person was.
        # htmx would otherwise show the form's action (/unit/…/suspend), which a reload fetches by
        # GET and gets 405.
        response.headers["HX-Push-Url"] = "false"
    return response

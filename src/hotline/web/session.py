"""The page edge: one transaction per request, the signed-in user from the session cookie, and
the CSRF check on every form post.

``page_work(request, write=...)`` is the pages' ``unit_of_work``: it commits when the handler
returns, rolls back on error, and raises ``SignInNeeded`` (→ redirect to the sign-in page) when
the browser is not signed in. Every POST must carry the session's CSRF token, as the form field
``csrf`` or the ``X-CSRF-Token`` header (htmx sends it from the page's ``hx-headers``).
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session

from hotline.accounts.models import User
from hotline.accounts.scope import Scope, scope_for
from hotline.accounts.signin import current
from hotline.kit.db import Database

COOKIE = "hotline_session"


class SignInNeeded(Exception):
    """No valid session: the page answers with a redirect to /login."""


class CsrfRefused(Exception):
    """A form posted without this session's CSRF token."""


@dataclass
class PageContext:
    session: Session
    user: User
    scope: Scope
    csrf: str
    session_id: int = 0  # the browser session's row (web_sessions.id)


def database(request: Request) -> Database:
    return request.app.state.db


async def form_csrf(request: Request) -> str:
    """The token a post carries (header first, then the form field)."""
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    form = await request.form()
    return str(form.get("csrf") or "")


@contextlib.contextmanager
def page_work(request: Request, *, write: bool, posted_csrf: str | None = None) -> Iterator[PageContext]:
    with database(request).transaction(write=write) as session:
        found = current(session, request.cookies.get(COOKIE))
        if found is None:
            raise SignInNeeded()
        user, web = found
        if request.method == "POST" and not hmac.compare_digest(posted_csrf or "", web.csrf_token):
            raise CsrfRefused()
        request.state.user, request.state.csrf = user, web.csrf_token
        yield PageContext(session, user, scope_for(user), web.csrf_token, web.id)

"""Sign-in and sign-out."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hotline.accounts.signin import SESSION_FOR, Refusal, Signed, sign_in, sign_out
from hotline.web.render import NAV, page
from hotline.web.session import COOKIE, database, form_csrf, page_work

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host), so the form cannot send people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return page(request, "login.html", next=_safe_next(next), username="", error=None)


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")) -> Response:
    with database(request).transaction(write=True) as session:  # commits the failure count too
        signed = sign_in(session, username, password)
        home = NAV[signed.user.role][0][0] if isinstance(signed, Signed) else "/"
    if isinstance(signed, Refusal):
        return page(request, "login.html", status_code=401, next=_safe_next(next), username=username,
                    error=signed.message)
    target = _safe_next(next)
    response = RedirectResponse(home if target == "/" else target, status_code=303)
    response.set_cookie(COOKIE, signed.token, max_age=int(SESSION_FOR.total_seconds()), httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    posted = await form_csrf(request)
    with page_work(request, write=True, posted_csrf=posted) as ctx:
        sign_out(ctx.session, request.cookies.get(COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response

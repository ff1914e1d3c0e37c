"""The portal's per-phone limit under submissions sent at once from two web processes (PostgreSQL):
the second waits for the first's ticket and is refused when it would be the phone's fourth."""

from __future__ import annotations

from hotline.config import Settings
from hotline.tickets.models import Channel, Ticket
from hotline.web.app import create_site
from hotline.web.routes import portal
from tests.race import at_once, postgres_only
from tests.web.conftest import Site
from tests.web.test_portal import _fields, _form, _submit

PHONE = "13803590001"


def test_the_phones_fourth_submission_sent_while_its_third_is_saved_is_refused(site, tmp_path):
    """Before: the second process counted 2 (the third not yet committed) and registered a fourth;
    five sent at once were all accepted."""
    postgres_only(site.db)
    client = site.browser()
    csrf = _form(client)
    for _ in range(2):
        assert _submit(client, _fields(csrf, caller_phone=PHONE)).status_code == 200
    # Another web process: its own app (its own per-IP counts) on the same database.
    app = create_site(Settings(data_dir=tmp_path / "other", database_url=site.db.url), database=site.db)
    other = Site(site.db, site.people, app).browser()
    other_csrf = _form(other)
    third = {k: v for k, v in _fields(csrf, caller_phone=PHONE).items() if k in portal.FIELDS}
    first, second = at_once(
        site.db,
        lambda s: portal._register(s, third).number,
        lambda _s: other.post("/portal/submit", data=_fields(other_csrf, caller_phone=PHONE)),
    )
    assert second.status_code == 429, second.text
    assert "该手机号码今天已提交 3 件诉求，已达上限" in second.text
    with site.db.transaction(write=False) as s:
        assert s.query(Ticket).filter_by(channel=Channel.web).count() == 3

"""ASGI entry point for several web processes: ``uvicorn hotline.web.asgi:app``.

Loading the site takes seconds (tens of them on a busy machine), and uvicorn, which has already
taken SIGINT and SIGTERM when it imports this module, would only note a stop asked for meanwhile and
act on it once the site had loaded and started. A process asked to stop while it loads serves
nothing yet and holds nothing to finish, so until the site is loaded either signal ends it at once
(``hotline serve --workers N`` stopped right after its start waited for every worker process to load
first: half a minute and more under load); after that, uvicorn's handlers are back and a stop is
graceful as before.
"""

import gc
import os
import signal
import threading
from types import FrameType


def _leave_at_once(signum: int, frame: FrameType | None) -> None:
    os._exit(0)  # nothing served, nothing to finish or flush


_uvicorn_handlers = ({sig: signal.signal(sig, _leave_at_once) for sig in (signal.SIGINT, signal.SIGTERM)}
                     if threading.current_thread() is threading.main_thread() else {})

from hotline.web.app import create_site, warm_up  # noqa: E402 - after the handlers above, on purpose

app = create_site()

# What start-up made (modules, routes, templates: some 130,000 objects) lives as long as the
# process. Frozen out of the collector, a full collection walks only what requests made: walking
# all of it took ~110 ms, the p95 spikes of the pages (bench/pages.py).
gc.collect()
gc.freeze()

for _sig, _handler in _uvicorn_handlers.items():
    if _handler is not None:  # None: a handler not set from Python, which cannot be put back
        signal.signal(_sig, _handler)

warm_up()  # the hot spots' libraries, in the background (web/app.py)

"""ASGI entry point for several web processes: ``uvicorn hotline.web.asgi:app``."""

import gc

from hotline.web.app import create_site

app = create_site()

# What start-up made (modules, routes, templates: some 130,000 objects) lives as long as the
# process. Frozen out of the collector, a full collection walks only what requests made: walking
# all of it took ~110 ms, the p95 spikes of the pages (bench/pages.py).
gc.collect()
gc.freeze()

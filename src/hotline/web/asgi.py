"""ASGI entry point for several web processes: ``uvicorn hotline.web.asgi:app``."""

from hotline.web.app import create_site

app = create_site()

"""ASGI entry for several uvicorn workers: ``uvicorn hotline.api.asgi:app --workers N``."""

from hotline.api.app import create_app

app = create_app()

"""ASGI entry point for uvicorn workers: ``wuye.platform.asgi:app``."""

from wuye.platform.app import create_app

app = create_app()

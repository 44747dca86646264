"""Publishes the contract: the live document carries its contract version, and the
changelog is served beside it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from wuye.openapi import contract


def install(app: FastAPI) -> None:
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = contract.published(plain())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/openapi/changelog", include_in_schema=False)
    def changelog() -> PlainTextResponse:
        return PlainTextResponse(
            contract.CHANGELOG.read_text(), media_type="text/markdown; charset=utf-8"
        )


def live_document() -> dict[str, Any]:
    """The document the platform serves now, built without touching any database."""
    import tempfile
    from pathlib import Path

    from wuye.platform.app import create_app
    from wuye.platform.db import Database
    from wuye.platform.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'doc.db'}")
        try:
            settings = Settings(var_dir=Path(tmp), secret_key="doc-only")  # noqa: S106
            app = create_app(settings, database)
            return app.openapi()
        finally:
            database.dispose()

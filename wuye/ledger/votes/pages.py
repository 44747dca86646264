"""Resident pages for votes (Chinese first, with English), served from the package.

The pages call the JSON API with the resident's access token (kept in the tab's
sessionStorage) and encrypt ballots in the browser with ``static/ballot.js``: the
platform receives only ciphertexts and proofs. Checking a receipt needs no login.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from wuye.ledger.votes.ballot import OPTIONS
from wuye.ledger.votes.civil_code import MATTER_LABELS
from wuye.platform import pages as platform_pages

HERE = Path(__file__).parent
PLATFORM_TEMPLATES = Path(platform_pages.__file__).parent / "templates"
templates = Jinja2Templates(directory=[HERE / "templates", PLATFORM_TEMPLATES])


def install(app: FastAPI) -> None:
    app.mount("/static/votes", StaticFiles(directory=HERE / "static"), name="votes-static")
    matters = {m.value: f"{zh} / {en}" for m, (zh, en) in MATTER_LABELS.items()}
    options = [{"key": k, "zh": zh, "en": en} for k, zh, en in OPTIONS]

    def page(request: Request, name: str, **extra: Any) -> HTMLResponse:
        from wuye.federation.owner_login import RESIDENT_CALLBACK, RESIDENT_CLIENT_ID

        settings = request.app.state.settings
        sign_in = {
            "client_id": RESIDENT_CLIENT_ID,
            "redirect_uri": settings.public_url.rstrip("/") + RESIDENT_CALLBACK,
            "scope": "estates:read votes:read votes:cast",
        }
        context = {
            "matters": json.dumps(matters, ensure_ascii=False),
            "options": options,
            "sign_in": json.dumps(sign_in),
        }
        return templates.TemplateResponse(request, name, context | extra)

    @app.get("/votes", include_in_schema=False, response_class=HTMLResponse)
    def votes_home(request: Request) -> HTMLResponse:
        return page(request, "votes_list.html")

    @app.get("/votes/signed-in", include_in_schema=False, response_class=HTMLResponse)
    def signed_in(request: Request) -> HTMLResponse:
        """The resident pages' OAuth redirect URI: trade the code for a token (PKCE)."""
        return page(request, "votes_signed_in.html")

    @app.get("/votes/receipt", include_in_schema=False, response_class=HTMLResponse)
    def receipt_page(request: Request) -> HTMLResponse:
        return page(request, "votes_receipt.html")

    @app.get("/votes/{election_id}", include_in_schema=False, response_class=HTMLResponse)
    def vote_page(request: Request, election_id: str) -> HTMLResponse:
        return page(request, "votes_cast.html", election_id=election_id)

    @app.get("/votes/{election_id}/results", include_in_schema=False, response_class=HTMLResponse)
    def results_page(request: Request, election_id: str) -> HTMLResponse:
        return page(request, "votes_results.html", election_id=election_id)

    @app.post("/votes/receipts/verify", include_in_schema=False)
    def verify_receipt(request: Request, receipt: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Check a receipt offline, then online against the platform's ledger node."""
        from wuye.ledger.genesis import Genesis
        from wuye.ledger.votes.receipts import ReceiptError, verify_offline, verify_online

        ledger = getattr(request.app.state, "votes_ledger", None)
        if ledger is not None:
            try:
                return {
                    "ok": True,
                    "checks": verify_online(receipt, ledger.officer.w3),
                    "online": True,
                }
            except ReceiptError as exc:
                return {"ok": False, "error": str(exc), "checks": []}
        genesis_file = Path(request.app.state.settings.var_dir) / "ledger" / "genesis.json"
        if not genesis_file.exists():
            return {
                "ok": False,
                "error": "no ledger or genesis file to check the seals",
                "checks": [],
            }
        try:
            checked = verify_offline(receipt, genesis=Genesis.load(genesis_file))
        except ReceiptError as exc:
            return {"ok": False, "error": str(exc), "checks": []}
        return {"ok": True, "checks": checked, "online": False}

    @app.post("/votes/receipts/qr", include_in_schema=False)
    def receipt_qr(receipt: dict[str, Any] = Body(...)) -> Response:
        from wuye.ledger.votes.receipts import qr_svg

        return Response(qr_svg(receipt), media_type="image/svg+xml")

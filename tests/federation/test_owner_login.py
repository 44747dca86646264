"""Owners sign in with their registered phone and a one-time SMS code, through the
authorization code flow with PKCE of the resident pages' public client, driven with
Authlib's httpx client against the live app (the page driven like a browser)."""

from __future__ import annotations

import html
import logging
import re
from datetime import timedelta

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from sqlalchemy import select, update

from wuye.federation import owner_login
from wuye.federation.models import OwnerLoginChallenge
from wuye.federation.tokens import TokenVerifier
from wuye.platform.db import Scope, utcnow
from wuye.platform.owners import service as owners
from wuye.platform.owners.models import OwnerIn
from wuye.platform.pii import PersonalDataCipher

from .conftest import Live

PHONE = "13912345678"


def _owner(live: Live, tenant_id: str, phone: str = PHONE, name: str = "李业主") -> str:
    cipher = PersonalDataCipher(live.settings.secret_bytes())
    with live.database.transaction(Scope.tenant(tenant_id)) as session:
        owner = owners.create_owner(
            session=session, cipher=cipher, owner_in=OwnerIn(name=name, phone=phone)
        )
        return owner.id


def _oauth(live: Live) -> OAuth2Client:
    return OAuth2Client(
        owner_login.RESIDENT_CLIENT_ID,
        None,
        redirect_uri=live.url + owner_login.RESIDENT_CALLBACK,
        scope="votes:read votes:cast estates:read",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )


def _form(page: httpx.Response, form_id: str = "phone-form") -> tuple[str, dict[str, str]]:
    """The phone form's action and its hidden fields."""
    match = re.search(
        rf'<form method="post" action="([^"]+)" id="{form_id}">(.*?)</form>', page.text, re.S
    )
    assert match, page.text
    hidden = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', match.group(2))
    )
    return html.unescape(match.group(1)), hidden


def _codes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        re.search(r"code is (\d{6})", r.getMessage()).group(1)  # type: ignore[union-attr]
        for r in caplog.records
        if r.name == "wuye.sms"
    ]


class Resident:
    """The owner's browser on the authorization page."""

    def __init__(self, live: Live, oauth: OAuth2Client) -> None:
        self.live, self.oauth = live, oauth
        self.browser = live.http()
        self.verifier = generate_token(48)
        self.url, self.state = oauth.create_authorization_url(
            f"{live.url}/oauth/authorize", code_verifier=self.verifier
        )
        self.page = self.browser.get(self.url)
        assert self.page.status_code == 200, self.page.text

    def send(self, phone: str = PHONE) -> httpx.Response:
        action, hidden = _form(self.page)
        self.page = self.browser.post(
            action, data=hidden | {"phone": phone, "method": "phone-send"}
        )
        return self.page

    def enter(self, code: str, **extra: str) -> httpx.Response:
        action, hidden = _form(self.page)
        answer = self.browser.post(
            action, data=hidden | {"code": code, "decision": "allow"} | extra
        )
        if answer.status_code != 302:
            self.page = answer
        return answer

    def token(self, answer: httpx.Response) -> dict[str, object]:
        assert answer.status_code == 302, answer.text
        return self.oauth.fetch_token(
            f"{self.live.url}/oauth/token",
            authorization_response=answer.headers["location"],
            code_verifier=self.verifier,
        )


@pytest.fixture
def sms(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="wuye.sms")
    return caplog


def test_owner_signs_in_with_phone_and_code_and_gets_an_owner_token(live: Live, sms) -> None:
    firm = live.member()
    owner = _owner(live, firm.tenant_id)
    with _oauth(live) as oauth:
        resident = Resident(live, oauth)
        assert resident.send().status_code == 200
        token = resident.token(resident.enter(_codes(sms)[-1]))
    principal = TokenVerifier(live.database, live.settings)(str(token["access_token"]))
    assert principal.subject == f"owner:{owner}" and principal.role == "owner"
    assert principal.tenant_id == firm.tenant_id
    assert {
        "votes:cast",
        "votes:read",
    } <= principal.scopes and "votes:manage" not in principal.scopes


def test_the_development_gateway_writes_the_code_to_the_server_log(live: Live, sms) -> None:
    firm = live.member()
    _owner(live, firm.tenant_id)
    with _oauth(live) as oauth:
        Resident(live, oauth).send()
    [record] = [r for r in sms.records if r.name == "wuye.sms"]
    assert PHONE in record.getMessage() and "验证码" in record.getMessage()


def test_codes_are_stored_only_as_digests(live: Live, sms) -> None:
    firm = live.member()
    _owner(live, firm.tenant_id)
    with _oauth(live) as oauth:
        Resident(live, oauth).send()
    code = _codes(sms)[-1]
    with live.database.transaction(Scope.for_host()) as session:
        row = session.scalars(select(OwnerLoginChallenge)).one()
        assert code not in row.code_hash and PHONE not in row.phone_index


def test_an_unknown_number_gets_the_same_answer_and_no_sms(live: Live, sms) -> None:
    live.member()
    with _oauth(live) as oauth:
        page = Resident(live, oauth).send("13800000000")
    assert page.status_code == 200 and "验证码已发送" in page.text
    assert _codes(sms) == []


def test_a_wrong_code_is_refused_and_attempts_run_out(live: Live, sms) -> None:
    firm = live.member()
    _owner(live, firm.tenant_id)
    with _oauth(live) as oauth:
        resident = Resident(live, oauth)
        resident.send()
        right = _codes(sms)[-1]
        wrong = f"{(int(right) + 1) % 10**6:06d}"
        for _ in range(owner_login.MAX_ATTEMPTS):
            assert resident.enter(wrong).status_code == 401
        refused = resident.enter(right)
    assert refused.status_code == 401 and "too many attempts" in refused.text


def test_an_expired_code_is_refused(live: Live, sms) -> None:
    firm = live.member()
    _owner(live, firm.tenant_id)
    with _oauth(live) as oauth:
        resident = Resident(live, oauth)
        resident.send()
        with live.database.transaction(Scope.for_host()) as session:
            session.execute(
                update(OwnerLoginChallenge).values(expires_at=utcnow() - timedelta(seconds=1))
            )
        refused = resident.enter(_codes(sms)[-1])
    assert refused.status_code == 401 and "expired" in refused.text


def test_a_code_works_only_once(live: Live, sms) -> None:
    firm = live.member()
    _owner(live, firm.tenant_id)
    with _oauth(live) as oauth:
        resident = Resident(live, oauth)
        resident.send()
        code = _codes(sms)[-1]
        action, hidden = _form(resident.page)
        assert resident.enter(code).status_code == 302
        again = resident.browser.post(action, data=hidden | {"code": code, "decision": "allow"})
    assert again.status_code == 401 and "already used" in again.text


def test_asking_for_codes_again_at_once_is_rate_limited(live: Live, sms) -> None:
    firm = live.member()
    _owner(live, firm.tenant_id)
    with _oauth(live) as oauth:
        assert Resident(live, oauth).send().status_code == 200
        again = Resident(live, oauth).send()
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
    assert len(_codes(sms)) == 1


def test_a_code_is_bound_to_the_browser_that_asked_for_it(live: Live, sms) -> None:
    firm = live.member()
    _owner(live, firm.tenant_id)
    with _oauth(live) as oauth:
        resident = Resident(live, oauth)
        resident.send()
        action, hidden = _form(resident.page)
        thief = Resident(live, oauth)
        _, thief_hidden = _form(thief.page)
        stolen = thief.browser.post(
            action,
            data=hidden
            | {
                "csrf_token": thief_hidden["csrf_token"],
                "code": _codes(sms)[-1],
                "decision": "allow",
            },
        )
    assert stolen.status_code == 401


def test_a_number_registered_with_two_firms_lets_the_owner_choose(live: Live, sms) -> None:
    first, second = live.member(), live.member()
    _owner(live, first.tenant_id)
    chosen = _owner(live, second.tenant_id, name="李业主（二）")
    with _oauth(live) as oauth:
        resident = Resident(live, oauth)
        resident.send()
        choose = resident.enter(_codes(sms)[-1])
        assert choose.status_code == 200 and "请选择" in choose.text
        token = resident.token(resident.enter("", owner=chosen))
    principal = TokenVerifier(live.database, live.settings)(str(token["access_token"]))
    assert (principal.subject, principal.tenant_id) == (f"owner:{chosen}", second.tenant_id)


def test_an_owners_token_refreshes_and_stays_the_owners(live: Live, sms) -> None:
    firm = live.member()
    owner = _owner(live, firm.tenant_id)
    with _oauth(live) as oauth:
        resident = Resident(live, oauth)
        resident.send()
        first = resident.token(resident.enter(_codes(sms)[-1]))
        fresh = oauth.refresh_token(f"{live.url}/oauth/token", refresh_token=first["refresh_token"])
    principal = TokenVerifier(live.database, live.settings)(str(fresh["access_token"]))
    assert principal.subject == f"owner:{owner}"


def test_an_owner_account_cannot_sign_in_with_a_password(live: Live, sms) -> None:
    from .oauth import sign_in

    firm = live.member()
    owner = _owner(live, firm.tenant_id)
    with _oauth(live) as oauth:
        resident = Resident(live, oauth)
        resident.send()
        resident.token(resident.enter(_codes(sms)[-1]))
        url, _ = oauth.create_authorization_url(
            f"{live.url}/oauth/authorize", code_verifier=generate_token(48)
        )
    answer = sign_in(live, url, f"owner:{owner}", password="!")
    assert answer.status_code == 401

"""Owners sign in with their registered phone number and a one-time code sent by SMS.

This is the sign-in method of the authorization endpoint's page for owners (业主):
the owner gives the mobile number the property firm registered for them, receives
a six-digit code, and enters it; the authorization code grant (with PKCE) then
issues an access token of role ``owner`` whose subject is ``owner:<id>``, in the
owner's own tenant (``oauth2/server.py``).

Rules (NIST SP 800-63B section 5.1.3 "out-of-band" and 5.2.2 rate limiting, applied
to SMS codes):

* codes are random (``secrets``), six digits, valid for :data:`CODE_TTL`, used once;
* only an HMAC of the code (keyed by the platform secret and the challenge) is
  stored, and the phone only as the owners' blind index;
* a challenge allows :data:`MAX_ATTEMPTS` guesses, then is void;
* sending is limited per phone (one per :data:`RESEND_INTERVAL`,
  :data:`MAX_PER_PHONE_PER_HOUR` an hour) and per client address;
* a challenge is bound to the browser that asked for it (its CSRF cookie);
* an unknown number gets the same answer as a known one, and no SMS (no oracle).

The SMS itself goes through an :class:`SmsGateway`; :class:`LogSmsGateway`, the
development default, writes the message to the server log (``wuye.sms``) - and
so, in ``wuye run``'s demo, to the console.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuye.federation.models import (
    OwnerLoginChallenge,
    Role,
    Tenant,
    TenantStatus,
    User,
    as_utc,
)
from wuye.federation.sealing import derive_key
from wuye.platform.db import utcnow
from wuye.platform.pii import PersonalDataCipher, mask_phone
from wuye.platform.settings import Settings

CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_INTERVAL = timedelta(seconds=60)
MAX_PER_PHONE_PER_HOUR = 5
MAX_PER_ADDRESS_PER_HOUR = 30
#: The resident pages' public client (authorization code + PKCE, no secret).
RESIDENT_CLIENT_ID = "wuye-resident-pages"
RESIDENT_CALLBACK = "/votes/signed-in"
RESIDENT_SCOPES = ("estates:read", "votes:read", "votes:cast", "funds:read")
#: Once the code is right, the owner has this long to pick a firm (several matches).
CHOICE_TTL = timedelta(minutes=5)

log = logging.getLogger("wuye.sms")


class SmsGateway(Protocol):
    """Sends one text message. Implementations: :class:`LogSmsGateway` (development);
    a production gateway (a carrier's or a cloud SMS API) implements the same method."""

    def send(self, phone: str, text: str) -> None: ...


class LogSmsGateway:
    """Development gateway: the message goes to the server log, nowhere else.

    Logged at WARNING so that it shows without any logging set-up (Python's
    last-resort handler prints it on stderr - the console of ``wuye run``). The
    last messages are also kept in :attr:`outbox` for the developer's tools.
    """

    def __init__(self, keep: int = 50) -> None:
        self.outbox: deque[tuple[str, str]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def send(self, phone: str, text: str) -> None:
        with self._lock:
            self.outbox.append((phone, text))
        log.warning("SMS (development gateway, not sent) to %s: %s", phone, text)


#: Gateways by name (``WUYE_SMS_GATEWAY``); production deployments register theirs here.
GATEWAYS: dict[str, type] = {"log": LogSmsGateway}


class TooManyRequests(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many codes requested; retry in {retry_after} s")
        self.retry_after = retry_after


class CodeRefused(Exception):
    """The code is wrong, expired or used up; the message says which (no secrets)."""


@dataclass(frozen=True, slots=True)
class OwnerMatch:
    """An owner record the verified phone belongs to, and its firm."""

    owner_id: str
    owner_name: str
    tenant_id: str
    tenant_name: str


def normalise_phone(text: str) -> str:
    """A mainland mobile number as registered: 11 digits starting with 1 (a +86 or
    0086 prefix, spaces and dashes are dropped). Raises ``ValueError``."""
    digits = "".join(ch for ch in text if ch.isdigit())
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if len(digits) != 11 or digits[0] != "1" or digits[1] not in "3456789":
        raise ValueError("请输入 11 位手机号 / enter an 11-digit mobile number")
    return digits


def _digest(settings: Settings, label: str, value: str) -> str:
    key = derive_key(settings.secret_bytes(), f"owner-login/{label}")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def browser_binding(settings: Settings, csrf_nonce: str) -> str:
    return _digest(settings, "browser", csrf_nonce)


def _code_hash(settings: Settings, challenge_id: str, code: str) -> str:
    return _digest(settings, "code", f"{challenge_id}:{code}")


def matches(session: Session, *, cipher: PersonalDataCipher, phone: str) -> list[OwnerMatch]:
    """Owners registered with ``phone``, in every active firm (host-scoped session)."""
    from wuye.platform.owners.models import Owner

    index = cipher.index(phone, field="phone")
    rows = session.execute(
        select(Owner.id, Owner.name, Tenant.id, Tenant.name)
        .join(Tenant, Tenant.id == Owner.tenant_id)
        .where(Owner.phone_index == index, Tenant.status == TenantStatus.ACTIVE)
        .order_by(Tenant.name, Owner.id)
    ).all()
    return [OwnerMatch(*row) for row in rows]


def request_code(
    session: Session,
    *,
    settings: Settings,
    cipher: PersonalDataCipher,
    gateway: SmsGateway,
    phone: str,
    client_id: str,
    browser: str,
    address: str,
) -> OwnerLoginChallenge:
    """Start a sign-in: rate-limit, then create a challenge and text the code - only if
    the number belongs to an owner; the caller answers the same either way."""
    now = utcnow()
    index = cipher.index(phone, field="phone")
    ip_hash = _digest(settings, "address", address)
    hour_ago = now - timedelta(hours=1)
    recent = session.scalars(
        select(OwnerLoginChallenge.created_at)
        .where(OwnerLoginChallenge.phone_index == index, OwnerLoginChallenge.created_at > hour_ago)
        .order_by(OwnerLoginChallenge.created_at.desc())
    ).all()
    if recent:
        wait = as_utc(recent[0]) + RESEND_INTERVAL - now
        if wait.total_seconds() > 0:
            raise TooManyRequests(int(wait.total_seconds()) + 1)
    if len(recent) >= MAX_PER_PHONE_PER_HOUR:
        oldest = min(as_utc(t) for t in recent)
        raise TooManyRequests(int((oldest + timedelta(hours=1) - now).total_seconds()) + 1)
    from_address = session.scalar(
        select(func.count())
        .select_from(OwnerLoginChallenge)
        .where(OwnerLoginChallenge.ip_hash == ip_hash, OwnerLoginChallenge.created_at > hour_ago)
    )
    if (from_address or 0) >= MAX_PER_ADDRESS_PER_HOUR:
        raise TooManyRequests(3600)
    code = f"{secrets.randbelow(10**6):06d}"
    challenge = OwnerLoginChallenge(
        phone_index=index,
        client_id=client_id,
        browser_hash=browser,
        ip_hash=ip_hash,
        created_at=now,
        expires_at=now + CODE_TTL,
        code_hash="",
    )
    session.add(challenge)
    session.flush()
    challenge.code_hash = _code_hash(settings, challenge.id, code)
    if matches(session, cipher=cipher, phone=phone):
        minutes = int(CODE_TTL.total_seconds() // 60)
        gateway.send(
            phone,
            f"【物业开放平台】您的登录验证码为 {code}，{minutes} 分钟内有效，请勿告诉他人。"
            f" Your wuye sign-in code is {code}, valid for {minutes} minutes.",
        )
    return challenge


def verify_code(
    session: Session,
    *,
    settings: Settings,
    cipher: PersonalDataCipher,
    challenge_id: str,
    code: str,
    phone: str,
    browser: str,
    client_id: str,
) -> list[OwnerMatch]:
    """Check the code the owner typed; return the owners the phone belongs to.

    A challenge whose code was already verified (the owner is choosing between
    firms) needs no code again within :data:`CHOICE_TTL`, from the same browser."""
    now = utcnow()
    challenge = session.scalars(
        select(OwnerLoginChallenge).where(OwnerLoginChallenge.id == challenge_id).with_for_update()
    ).one_or_none()
    if (
        challenge is None
        or not hmac.compare_digest(challenge.browser_hash, browser)
        or challenge.client_id != client_id
        or challenge.phone_index != cipher.index(phone, field="phone")
    ):
        raise CodeRefused("验证码无效，请重新获取 / the code is not valid; request a new one")
    if challenge.used_at is not None:
        raise CodeRefused("验证码已使用 / the code was already used; request a new one")
    if challenge.verified_at is not None:
        if as_utc(challenge.verified_at) + CHOICE_TTL <= now:
            raise CodeRefused("已超时，请重新获取验证码 / too late; request a new code")
    else:
        if as_utc(challenge.expires_at) <= now:
            raise CodeRefused("验证码已过期 / the code has expired; request a new one")
        if challenge.attempts >= MAX_ATTEMPTS:
            raise CodeRefused("尝试次数过多 / too many attempts; request a new code")
        challenge.attempts += 1
        if not hmac.compare_digest(
            challenge.code_hash, _code_hash(settings, challenge.id, code.strip())
        ):
            left = MAX_ATTEMPTS - challenge.attempts
            raise CodeRefused(f"验证码错误，还可尝试 {left} 次 / wrong code, {left} attempts left")
        challenge.verified_at = now
    found = matches(session, cipher=cipher, phone=phone)
    if not found:
        challenge.used_at = now
        raise CodeRefused("该手机号未登记为业主 / this number is not registered for an owner")
    return found


def finish(session: Session, *, challenge_id: str) -> None:
    """The sign-in succeeded: the challenge can never be used again."""
    challenge = session.get(OwnerLoginChallenge, challenge_id)
    if challenge is not None:
        challenge.used_at = utcnow()


def owner_user(session: Session, *, match: OwnerMatch) -> User:
    """The owner's account (role ``owner``), created at the first sign-in. It has no
    password: it signs in only with a code sent to the registered phone."""
    user = session.scalars(select(User).where(User.owner_id == match.owner_id)).one_or_none()
    if user is None:
        user = User(
            tenant_id=match.tenant_id,
            username=f"owner:{match.owner_id}",
            display_name=match.owner_name,
            password_hash="!",  # noqa: S106 - no password can match: not an Argon2 hash
            role=Role.OWNER,
            owner_id=match.owner_id,
        )
        session.add(user)
        session.flush()
    return user


def masked(phone: str) -> str:
    return mask_phone(phone)


def ensure_resident_client(session: Session, *, settings: Settings) -> None:
    """The resident pages' public OAuth client, created on first use under the host
    firm (or, on a platform with no host firm yet, the developer sandbox tenant),
    its redirect URI kept equal to ``settings.public_url`` + :data:`RESIDENT_CALLBACK`."""
    from wuye.federation import service
    from wuye.federation.models import OAuthClient

    redirect = settings.public_url.rstrip("/") + RESIDENT_CALLBACK
    client = session.scalars(
        select(OAuthClient).where(OAuthClient.client_id == RESIDENT_CLIENT_ID)
    ).one_or_none()
    if client is not None:
        if client.redirect_uris != [redirect]:
            client.redirect_uris = [redirect]
            session.flush()
        return
    tenant = service.host_tenant(session) or service.sandbox_tenant(session)
    service.create_client(
        session,
        tenant_id=tenant.id,
        name="业主服务页面 / Resident pages",
        redirect_uris=[redirect],
        grant_types=["authorization_code", "refresh_token"],
        scopes=list(RESIDENT_SCOPES),
        role=Role.OWNER,
        token_endpoint_auth_method="none",  # noqa: S106 - a method name
        client_id=RESIDENT_CLIENT_ID,
    )

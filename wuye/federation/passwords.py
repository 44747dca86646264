"""Password hashing with Argon2id (RFC 9106), and the database-backed throttle of failed
sign-ins that every worker shares."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wuye.federation.models import LoginThrottle, as_utc
from wuye.platform.db import utcnow

_hasher = PasswordHasher()
#: Verified against when the user does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("wuye: no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; spends the same time when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def locked_for(session: Session, key: str) -> int:
    """Seconds ``key`` stays locked out after too many failures; 0 when it may try."""
    row = session.get(LoginThrottle, key)
    if row is None or row.locked_until is None:
        return 0
    remaining = (as_utc(row.locked_until) - utcnow()).total_seconds()
    return max(0, int(remaining + 0.999))


def record_failure(session: Session, key: str, *, max_failures: int, lockout_seconds: int) -> int:
    """Count a failed sign-in; lock ``key`` for ``lockout_seconds`` at ``max_failures``
    failures within that window. Returns the failures counted in the window.

    The row is read ``FOR UPDATE`` (PostgreSQL) so concurrent workers count every attempt.
    """
    now = utcnow()
    locked_row = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
    row = session.scalars(locked_row).one_or_none()
    if row is None:
        try:
            with session.begin_nested():  # another worker may insert the same key first
                session.add(LoginThrottle(key=key, failures=0, window_started_at=now))
        except IntegrityError:
            pass
        row = session.scalars(locked_row.execution_options(populate_existing=True)).one()
    elif now - as_utc(row.window_started_at) > timedelta(seconds=lockout_seconds):
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= max_failures:
        row.locked_until = now + timedelta(seconds=lockout_seconds)
    session.flush()
    return row.failures


def clear_failures(session: Session, key: str) -> None:
    row = session.get(LoginThrottle, key)
    if row is not None:
        session.delete(row)

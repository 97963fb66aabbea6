"""Logins, sessions, roles and CSRF tokens of the review desk.

The session lives in a signed cookie (Starlette's ``SessionMiddleware``: itsdangerous, HttpOnly,
SameSite=Lax, Secure behind HTTPS) holding the user's name, a tag of their password hash (a new
password or a disabled account ends every open session at the next request) and a CSRF token
that every form and every script ``POST`` sends back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Iterable

from starlette.datastructures import FormData
from starlette.requests import Request

from storage.users import DeskUser

__all__ = [
    "PERMISSIONS",
    "CsrfError",
    "Forbidden",
    "LoginLimiter",
    "NotLoggedIn",
    "allowed",
    "csrf_token",
    "checked_form",
    "password_tag",
    "require",
    "safe_next",
]

# What each role may do. Everyone signed in reads the queue, posts and photos.
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"desk", "analyst", "operator", "admin"}),
    "review": frozenset({"desk", "admin"}),
    "cite": frozenset({"analyst", "admin", "desk"}),
    "export": frozenset({"analyst", "admin"}),
    "search": frozenset({"analyst", "admin"}),
    "operate": frozenset({"operator", "admin"}),
}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class NotLoggedIn(Exception):
    """No valid session: pages redirect to the login form."""


class Forbidden(Exception):
    """Signed in, but the role does not allow this (HTTP 403)."""

    def __init__(self, user: DeskUser, permission: str) -> None:
        super().__init__(f"{user.role} accounts may not {permission}")
        self.user = user
        self.permission = permission


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token (HTTP 403)."""


def safe_next(value: object, default: str = "/queue") -> str:
    """``value`` when it is a path on this site, else ``default``: no open redirect through
    ``//host``, ``/\\host`` (browsers read a backslash as a slash) or a scheme."""
    target = str(value or "")
    if (
        not target.startswith("/")
        or target[1:2] in ("/", "\\")
        or "\\" in target
        or any(ord(ch) < 32 for ch in target)
    ):
        return default
    return target


def password_tag(password_hash: str) -> str:
    """A short tag of the hash, kept in the session: it changes when the password does."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def allowed(user: DeskUser | None, permission: str) -> bool:
    return user is not None and user.role in PERMISSIONS[permission]


def require(request: Request, permission: str = "read") -> DeskUser:
    """The signed-in user (set by the app's session check), if their role allows ``permission``."""
    user: DeskUser | None = request.state.user
    if user is None:
        raise NotLoggedIn
    if not allowed(user, permission):
        raise Forbidden(user, permission)
    return user


async def checked_form(request: Request) -> FormData:
    """The request's form, after checking its CSRF token (form field or ``X-CSRF-Token`` header)
    against the session's; :class:`CsrfError` otherwise."""
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = request.session.get("csrf")
    if not (isinstance(sent, str) and isinstance(expected, str) and expected):
        raise CsrfError("missing CSRF token")
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError("wrong CSRF token")
    return form


class LoginLimiter:
    """Failed logins counted per client address and per account name over a sliding window;
    past the limit, logins from that address (or for that name) wait, password unchecked.

    In memory, per process: one ``monitor web`` serves the desk.
    """

    def __init__(self, *, per_name: int = 5, per_address: int = 20, window: float = 300.0) -> None:
        self.per_name = per_name
        self.per_address = per_address
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _keys(self, address: str, name: str) -> Iterable[tuple[str, int]]:
        yield f"addr:{address}", self.per_address
        yield f"name:{name.strip().lower()}", self.per_name

    def retry_after(self, address: str, name: str) -> int:
        """Seconds to wait before another attempt, 0 when one is allowed now."""
        now = time.monotonic()
        wait = 0.0
        for key, limit in self._keys(address, name):
            times = self._recent(key, now)
            if len(times) >= limit:
                wait = max(wait, times[0] + self.window - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, address: str, name: str) -> None:
        now = time.monotonic()
        for key, _ in self._keys(address, name):
            self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        self._failures.pop(f"name:{name.strip().lower()}", None)

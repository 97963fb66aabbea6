"""The desk's Starlette application: lifespan (one engine), middleware, error table, routes."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.config import format_duration
from monitor.media_url import media_store_for
from monitor.settings import Settings
from monitor.web import auth, ops, overview, pages, queue, search_page
from monitor.web.auth import CsrfError, Forbidden, LoginLimiter, NotLoggedIn
from monitor.web.watchlist import WatchlistCache
from storage import StorageError, check_schema, create_engine
from storage.files import private_file

__all__ = ["CSP", "create_app", "load_secret"]

HERE = Path(__file__).parent
SESSION_COOKIE = "desk_session"
SESSION_HOURS = 12
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds the Content-Security-Policy and its companions to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def load_secret(settings: Settings) -> str:
    """The key that signs session cookies: ``<data_dir>/web-secret.key`` (0600), created with
    32 random bytes on first use, so sessions survive a restart and several processes agree."""
    path = settings.data_dir / "web-secret.key"
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
    private_file(path)
    key = secrets.token_urlsafe(32)
    path.write_text(key + "\n", encoding="ascii")
    return key


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and request.method == "GET"


async def _not_logged_in(request: Request, exc: Exception) -> Response:
    if _wants_page(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={queue.quote(target)}", status_code=303)
    return PlainTextResponse("login required", status_code=401)


async def _forbidden(request: Request, exc: Exception) -> Response:
    message = str(exc)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"title": "Not allowed", "message": message}, status_code=403
    )


async def _csrf(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"refused: {exc} (reload the page and try again)", status_code=403)


async def _storage(request: Request, exc: Exception) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"title": "Not found", "message": str(exc)}, status_code=404
    )


# One table from our errors to HTTP answers.
ERRORS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    NotLoggedIn: _not_logged_in,
    Forbidden: _forbidden,
    CsrfError: _csrf,
    StorageError: _storage,
}


def create_app(
    settings: Settings,
    *,
    secret_key: str | None = None,
    secure_cookies: bool = False,
    live_poll_seconds: float = 1.0,
) -> Starlette:
    """The desk for the archive of ``settings``. Cookies get ``Secure`` with ``secure_cookies``
    (set it when the desk is served over HTTPS)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        try:
            await check_schema(engine)
            app.state.engine = engine
            yield
        finally:
            await engine.dispose()

    templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_context])
    templates.env.filters["duration"] = format_duration
    app = Starlette(
        routes=[
            Route("/", queue.home),
            Route("/login", pages.login_form, methods=["GET"]),
            Route("/login", pages.login, methods=["POST"]),
            Route("/logout", pages.logout, methods=["POST"]),
            Route("/queue", queue.queue_page),
            Route("/events", queue.events),
            Route("/flags/{flag_id:int}/review", queue.review, methods=["POST"]),
            Route("/post/{channel_id:int}/{message_id:int}", pages.post_page),
            Route("/media/{sha256:str}", pages.media_file),
            Route("/export/flags.csv", queue.export_flags),
            Route("/search", search_page.search_page),
            Route("/channels", overview.channels_page),
            Route("/entity/{entity_id:str}", overview.entity_page),
            Route("/healthz", ops.healthz),
            Route("/metrics", ops.metrics),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=secret_key or load_secret(settings),
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_HOURS * 3600,
                same_site="lax",
                https_only=secure_cookies,
            ),
            Middleware(SessionUser),
        ],
        exception_handlers=ERRORS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.templates = templates
    app.state.limiter = LoginLimiter()
    app.state.watchlist = WatchlistCache(settings.channels_file)
    app.state.media = media_store_for(settings)  # a directory, or s3:// (MONITOR_MEDIA_URL)
    app.state.live_poll_seconds = live_poll_seconds
    return app


class SessionUser:
    """Puts the signed-in :class:`~storage.users.DeskUser` (or None) on ``request.state.user``:
    the session's name, if that account exists, is enabled and has the password it logged in with.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            scope.setdefault("state", {})["user"] = await _session_user(request)
        await self.app(scope, receive, send)


async def _session_user(request: Request) -> Any:
    name = request.session.get("user")
    if not isinstance(name, str) or request.url.path.startswith("/static/"):
        return None
    from storage.users import get_user

    async with request.app.state.engine.connect() as conn:
        user = await get_user(name, conn=conn)
    if (
        user is None
        or not user.active
        or auth.password_tag(user.password_hash) != request.session.get("tag")
    ):
        request.session.pop("user", None)
        request.session.pop("tag", None)
        return None
    return user


def _context(request: Request) -> dict[str, Any]:
    user = getattr(request.state, "user", None)
    return {
        "user": user,
        "csrf": auth.csrf_token(request),
        "can": lambda permission: auth.allowed(user, permission),
    }

"""Secrets out of everything we print or log: one function, :func:`redact`, used everywhere.

It finds every URL in a text and hides what can be a secret in it: the password of
``user:password@`` (a long token-like user name too), everything after ``scheme://`` for the
services that carry their tokens in the URL's host and path (``slack://``, ``discord://``,
``tgram://``...), token-like path segments of any other URL (webhooks), and query parameters named
like secrets (``password``, ``token``, ``key``, ``secret``...). The rest (scheme, host, short
path words like ``/hook``, harmless options) stays, so a message still says which route failed.

Plain and dependency-free: ``monitor.log`` imports it, and so does Apprise's log filter
(:func:`install_apprise_filter`), without loading anything else of ``alerts``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

__all__ = [
    "MASK",
    "RedactingFilter",
    "install_apprise_filter",
    "redact",
    "redact_url",
]

MASK = "***"

# Services whose URL's "host" and path are tokens (Apprise's own schemes).
TOKEN_SCHEMES = frozenset(
    {
        "slack",
        "discord",
        "tgram",
        "msteams",
        "pover",
        "pushover",
        "pbul",
        "gotify",
        "gotifys",
        "ifttt",
        "join",
        "line",
        "mattermost",
        "mmost",
        "mmosts",
        "ntfy",
        "ntfys",
        "opsgenie",
        "pagerduty",
        "rocket",
        "rockets",
        "signal",
        "signals",
        "twilio",
        "workflow",
        "workflows",
        "zulip",
        "matrix",
        "matrixs",
        "gchat",
        "guilded",
        "webexteams",
        "wxteams",
        "bark",
        "barks",
        "spush",
        "apprise",
        "apprises",
    }
)
_SECRET_QUERY = re.compile(
    r"pass|pwd|token|key|secret|auth|sig|session|hash|cred|bearer|jwt|private", re.IGNORECASE
)
# A URL: scheme://, then everything up to whitespace, a quote or a closing bracket.
_URL_RE = re.compile(r"\b([A-Za-z][A-Za-z0-9+.\-]{0,31})://([^\s'\"<>`]*)")


# Hosts whose paths are public (post links), never tokens.
_PUBLIC_HOSTS = frozenset({"t.me", "telegram.me"})
# Schemes whose path is a file path, never a token (a data directory must stay readable).
_FILE_SCHEMES = ("sqlite", "file", "jsonl")

# Paths without a scheme: urllib3's request lines and "Max retries exceeded with url: /...".
_BARE_PATH_RE = re.compile(
    r"((?:\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) |\burl: ))(/[^\s'\"<>`)]*)"
)
# A Telegram bot token (``123456789:AAH...``), wherever it appears.
_BOT_TOKEN_RE = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}")


def _tokenish(segment: str) -> bool:
    """Whether a path segment or user name looks like a token rather than a word."""
    if len(segment) < 8:
        return False
    digits = sum(ch.isdigit() for ch in segment)
    letters = sum(ch.isalpha() for ch in segment)
    mixed_case = any(ch.isupper() for ch in segment) and any(ch.islower() for ch in segment)
    return (
        (digits >= 2 and letters >= 2)
        or digits >= 8
        or (len(segment) >= 20 and (digits > 0 or mixed_case or segment.isalnum()))
    )


def _redact_query(query: str) -> str:
    parts = []
    for pair in query.split("&"):
        key, eq, value = pair.partition("=")
        parts.append(f"{key}={MASK}" if eq and value and _SECRET_QUERY.search(key) else pair)
    return "&".join(parts)


def redact_url(url: str) -> str:
    """``url`` with its credentials, tokens and secret query values replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    rest, hash_sep, fragment = rest.partition("#")
    rest, q_sep, query = rest.partition("?")
    if scheme.lower() in TOKEN_SCHEMES:
        rest = MASK if rest else rest
        fragment = MASK if fragment else fragment
    else:
        authority, slash, path = rest.partition("/")
        userinfo, at, host = authority.rpartition("@")
        if at:
            user, colon, _password = userinfo.partition(":")
            if _tokenish(user):
                user = MASK
            userinfo = f"{user}:{MASK}" if colon else user
            authority = f"{userinfo}@{host}"
        if not scheme.lower().startswith(_FILE_SCHEMES) and host.lower() not in _PUBLIC_HOSTS:
            path = _redact_path(path)
        rest = authority + slash + path
    query = _redact_query(query) if query else query
    return f"{scheme}://{rest}{q_sep}{query}{hash_sep}{fragment}"


def _redact_match(match: re.Match[str]) -> str:
    url = match.group(0)
    trimmed = url.rstrip(".,:;!?)]}")  # sentence punctuation after a URL is not part of it
    return redact_url(trimmed) + url[len(trimmed) :]


def _redact_path(path: str) -> str:
    path, q_sep, query = path.partition("?")
    path = "/".join(MASK if _tokenish(seg) else seg for seg in path.split("/"))
    return path + q_sep + (_redact_query(query) if query else query)


def redact(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url`, and the request paths
    HTTP libraries log without a scheme (``"POST /hook/<token> HTTP/1.1"``, ``url: /<token>``)
    and Telegram bot tokens redacted too."""
    if "://" in text:
        text = _URL_RE.sub(_redact_match, text)
    if "/" in text:
        text = _BARE_PATH_RE.sub(lambda m: m.group(1) + _redact_path(m.group(2)), text)
    return _BOT_TOKEN_RE.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the record's message (arguments merged in) before handlers."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string: leave it to the handler
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()


def install_apprise_filter(logger: Any = None) -> None:
    """Redact Apprise's own log records (it logs service URLs, with their tokens, at DEBUG and
    "Unparseable URL ..." at ERROR) before any handler, ours or Apprise's capture, sees them."""
    target = logger or logging.getLogger("apprise")
    if _FILTER not in target.filters:
        target.addFilter(_FILTER)

"""Any Apprise URL (json://, mailto://, slack://, discord://, tgram://, msteams://...)."""

from __future__ import annotations

import warnings
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise
import structlog
from apprise.attachment.memory import AttachMemory

from alerts.errors import AlertConfigError, AlertDeliveryError
from alerts.redact import install_apprise_filter, redact
from alerts.render import RenderedAlert
from alerts.sinks.base import redact_url

__all__ = ["AppriseSink"]

log = structlog.get_logger(__name__)

_FORMATS = {"text": "text", "markdown": "markdown", "html": "html"}
# Apprise's email plugin imports the deprecated imghdr module on Python 3.11/3.12.
_IMGHDR = "'imghdr' is deprecated"


def _instantiate(url: str, asset: apprise.AppriseAsset) -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_IMGHDR, category=DeprecationWarning)
        return apprise.Apprise.instantiate(url, asset=asset)


# Schemes whose host part is a real host (elsewhere, e.g. tgram:// or slack://, it is a token).
_HOST_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"})


def _safe_name(url: str, plugin: Any) -> str:
    """What logs and errors may show: scheme://host, or Apprise's own masked URL."""
    scheme = url.partition("://")[0].lower()
    if scheme in _HOST_SCHEMES:
        return redact_url(url)
    try:
        private = str(plugin.url(privacy=True)).split("?")[0]
    except Exception:  # noqa: BLE001 - a plugin without a private form: show the scheme only
        private = ""
    return redact(private) if private else f"{scheme}://***"


def _choose_format(url: str, plugin: Any) -> str:
    """The body format to render for this service.

    An explicit ``format=`` in the URL wins. Generic webhooks get text, mail gets HTML. Chat
    services (Discord, Telegram, Matrix...) parse Markdown even in "text" messages, so they get
    escaped Markdown whenever they support it: a raw post could otherwise inject links there.
    Slack is the exception: it gets text, which it shows as plain text.
    """
    asked = dict(parse_qsl(urlsplit(url).query)).get("format", "").lower()
    if asked in _FORMATS:
        return asked
    if getattr(plugin, "secure_protocol", None) == "slack":
        # Slack's mrkdwn has no backslash escapes: escaped Markdown shows stray backslashes.
        # Plain text goes out with &, <, > entity-escaped by Apprise (no links, no mentions).
        return "text"
    supported = plugin.notify_format
    if not isinstance(supported, tuple | list):
        supported = (supported,)
    names = [str(getattr(f, "value", f)) for f in supported]
    scheme = url.partition("://")[0].lower()
    if scheme.startswith(("json", "form", "xml")):
        return "text"
    if scheme.startswith("mailto"):
        return "html" if "html" in names else "text"
    for choice in ("markdown", "html"):
        if choice in names:
            return choice
    return "text"


def _secrets(url: str) -> list[str]:
    """Pieces of ``url`` that could be tokens, to scrub from error messages."""
    parts = urlsplit(url)
    candidates = [parts.username, parts.password, *parts.path.split("/")]
    candidates += [value for _key, value in parse_qsl(parts.query)]
    return sorted({unquote(c) for c in candidates if c and len(c) >= 6}, key=len, reverse=True)


class AppriseSink:
    """Sends through Apprise's async notify in the plugin's preferred format.

    The idempotency key goes out as an ``Idempotency-Key`` header and an ``idempotency_key``
    field (json://, form://, xml://) or an ``X-Idempotency-Key`` mail header (mailto://).
    """

    def __init__(self, url: str) -> None:
        install_apprise_filter()  # before Apprise first logs this URL
        self._url = url
        self.name = f"{url.partition('://')[0].lower()}://***"
        self._asset = apprise.AppriseAsset(storage_mode="memory")
        plugin = _instantiate(url, self._asset)
        if plugin is not None:
            self.name = _safe_name(url, plugin)
        if plugin is None:
            raise AlertConfigError(
                f"{self.name} is not a usable Apprise URL",
                hint="see https://github.com/caronc/apprise/wiki for the URL of each service",
            )
        self.format = _choose_format(url, plugin)

    @classmethod
    def from_url(cls, url: str) -> AppriseSink:
        return cls(url)

    async def send(self, message: RenderedAlert, *, idempotency_key: str) -> None:
        plugin = _instantiate(self._url, self._asset)
        if plugin is None:  # pragma: no cover - validated in __init__
            raise AlertDeliveryError(f"{self.name}: Apprise could not load the URL")
        headers = getattr(plugin, "headers", None)
        if isinstance(headers, dict):
            is_mail = self.name.startswith("mailto")
            headers["X-Idempotency-Key" if is_mail else "Idempotency-Key"] = idempotency_key
        extras = getattr(plugin, "payload_extras", None)
        if isinstance(extras, dict):
            extras["idempotency_key"] = idempotency_key
        notifier = apprise.Apprise(asset=self._asset)
        notifier.add(plugin)
        attach = None
        if message.attachments:  # the post's photos; services without attachments ignore them
            attach = apprise.AppriseAttachment(asset=self._asset)
            for name, data in message.attachments:
                attach.add(AttachMemory(content=data, name=name))
        result = await notifier.async_notify(
            body=message.body, title=message.title, body_format=message.format, attach=attach
        )
        if result:
            log.debug("alert_sent", sink=self.name, key=idempotency_key)
            return
        problems = [
            entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")
        ] or [f"status {getattr(result.status, 'name', result.status)}"]
        detail = redact(problems[-1])
        for secret in _secrets(self._url):
            detail = detail.replace(secret, "***")
        raise AlertDeliveryError(f"{self.name}: {detail}")

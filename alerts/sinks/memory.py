"""``memory://name``: a recording sink for tests and dry runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from alerts.render import RenderedAlert

__all__ = ["Delivery", "MemorySink"]


@dataclass(frozen=True, slots=True)
class Delivery:
    idempotency_key: str
    message: RenderedAlert


class MemorySink:
    """Keeps every delivery in ``deliveries``. ``memory://name`` returns the same sink per name."""

    _named: ClassVar[dict[str, MemorySink]] = {}

    def __init__(self, name: str = "memory", *, format: str = "text") -> None:
        self.name = f"memory://{name}"
        self.format = format
        self.deliveries: list[Delivery] = []

    @classmethod
    def named(cls, name: str) -> MemorySink:
        if name not in cls._named:
            cls._named[name] = cls(name)
        return cls._named[name]

    @classmethod
    def from_url(cls, url: str) -> MemorySink:
        return cls.named(url.partition("://")[2].strip("/") or "default")

    async def send(self, message: RenderedAlert, *, idempotency_key: str) -> None:
        self.deliveries.append(Delivery(idempotency_key, message))

    @property
    def keys(self) -> list[str]:
        return [d.idempotency_key for d in self.deliveries]

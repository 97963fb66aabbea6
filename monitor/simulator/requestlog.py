"""A log of every request the simulated Telegram answered, with counts per type and account."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["LoggedRequest", "RequestLog"]


@dataclass(frozen=True)
class LoggedRequest:
    name: str  # TL class name, e.g. "GetHistoryRequest"
    account: str
    at: datetime
    error: str | None = None  # the RPC error returned, if any
    detail: str | None = None  # for SIMULATOR_INTERNAL_ERROR: the exception the handler raised
    channel: int | None = None  # the channel the request read, if it names one


class RequestLog:
    """``backend.requests.count("GetHistoryRequest")`` counts calls; ``reset()`` forgets them.

    Wrappers (InvokeWithLayer, InitConnection) are not logged, only the query inside them.
    """

    def __init__(self) -> None:
        self.entries: list[LoggedRequest] = []
        self.connections: Counter[str] = Counter()  # connections opened, per account

    def record_connection(self, account: str) -> None:
        self.connections[account] += 1

    def record(
        self,
        name: str,
        account: str,
        error: str | None = None,
        *,
        detail: str | None = None,
        channel: int | None = None,
    ) -> LoggedRequest:
        entry = LoggedRequest(name, account, datetime.now(UTC), error, detail, channel)
        self.entries.append(entry)
        return entry

    def count(self, name: str | None = None, *, account: str | None = None) -> int:
        return sum(
            1
            for e in self.entries
            if (name is None or e.name == name) and (account is None or e.account == account)
        )

    def counts(self, *, account: str | None = None) -> Counter[str]:
        return Counter(e.name for e in self.entries if account is None or e.account == account)

    def per_account(self) -> Counter[str]:
        return Counter(e.account for e in self.entries)

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def reset(self) -> None:
        self.entries.clear()
        self.connections.clear()

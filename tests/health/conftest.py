"""Health tests reuse the daemon fixtures (simulator in the test's loop, `monitor run` as a
process, database views) and the alert tests' loopback HTTP receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts.conftest import Receiver
from tests.daemon.conftest import daemons, open_db, sim  # noqa: F401  (fixtures)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


from tests.telegram_fixtures import connect, make_pipeline, telegram  # noqa: E402, F401

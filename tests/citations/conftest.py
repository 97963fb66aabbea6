"""Citation fixtures: the collected seed archive, and the simulated Telegram with a pipeline."""

from tests.flagging.conftest import archive, seed  # noqa: F401
from tests.telegram_fixtures import connect, make_pipeline, telegram  # noqa: F401

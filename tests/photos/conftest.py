"""Photo tracing fixtures: simulated Telegram, TelegramClient, pipeline."""

from tests.telegram_fixtures import connect, make_pipeline, telegram  # noqa: F401

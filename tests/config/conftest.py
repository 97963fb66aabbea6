"""Fixtures for watchlist tests: parse YAML text, or get its problem lines back."""

from __future__ import annotations

from collections.abc import Callable
from textwrap import dedent
from typing import Any

import pytest

from monitor.config import Watchlist, WatchlistError, parse_watchlist


@pytest.fixture
def parse() -> Callable[..., Watchlist]:
    """``parse(text, env=..., base_dir=...)``: a Watchlist from dedented YAML (env empty by default)."""

    def _parse(text: str, **kwargs: Any) -> Watchlist:
        kwargs.setdefault("env", {})
        return parse_watchlist(dedent(text), **kwargs)

    return _parse


@pytest.fixture
def problems(parse: Callable[..., Watchlist]) -> Callable[..., list[str]]:
    """``problems(text)``: every problem line; fails the test if the text is valid."""

    def _problems(text: str, **kwargs: Any) -> list[str]:
        with pytest.raises(WatchlistError) as caught:
            parse(text, **kwargs)
        return [str(problem) for problem in caught.value.problems]

    return _problems

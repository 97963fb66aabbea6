"""Dates as citations and alerts write them: "May 13, 2024", in English whatever the locale."""

from __future__ import annotations

from datetime import date

__all__ = ["long_date"]

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(value: date) -> str:
    """``May 13, 2024`` for the calendar date of ``value`` (convert to the wanted zone first)."""
    return f"{_MONTHS[value.month - 1]} {value.day}, {value.year}"

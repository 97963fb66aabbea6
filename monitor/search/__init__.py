"""Searching the archive: the query language, the indexed form of a text, marked snippets.

Pure functions (no I/O); the SQL lives in ``storage.search`` and takes what these produce. The
CLI (``monitor search``, ``monitor export posts``) and the web desk call the same functions.
"""

from __future__ import annotations

from monitor.search.highlight import marked_snippet
from monitor.search.query import ParsedQuery, QueryError, parse_query
from monitor.search.text import index_text, search_words

__all__ = [
    "ParsedQuery",
    "QueryError",
    "index_text",
    "marked_snippet",
    "parse_query",
    "search_words",
]

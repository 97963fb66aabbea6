"""Watched-entity matching: pure functions, no I/O.

``Matcher.compile(entities).match(text)`` finds whole-word, leftmost-longest mentions of any
entity alias, whatever the script, spelling noise or filter-dodging characters, and returns spans
in the original text; ``snippet`` cuts a window around the first one for the desk. Spellings
nobody listed (Persian forms, Russian case endings, Latin transliterations) are inferred under
the rules in ``INFERRED`` unless an entity says ``infer: false`` (see :mod:`.infer`).
"""

from __future__ import annotations

from monitor.matching.aliases import INFERRED, RULES, AliasForm, expand_alias
from monitor.matching.matcher import Match, Matcher
from monitor.matching.normalize import fold_with_map, normalize
from monitor.matching.snippet import snippet

__all__ = [
    "INFERRED",
    "RULES",
    "AliasForm",
    "Match",
    "Matcher",
    "expand_alias",
    "fold_with_map",
    "normalize",
    "snippet",
]

"""A fast YAML reader for the common case: libyaml's C parser, YAML 1.2 scalars, plain values.

ruamel's round-trip loader (:mod:`monitor.config.yamlpos`) keeps every position, which error
messages need, but it is pure Python and takes seconds on a 10,000-alias entities file. A valid
file needs no positions, so the loader reads it here first and goes back to ruamel only when
something is wrong or unusual. To give exactly what ruamel gives, this reader gives up
(:class:`NeedsRoundTrip`) rather than guess whenever YAML 1.1 (PyYAML) and 1.2 (ruamel)
could disagree:

- plain scalars resolve as in YAML 1.2: ``true``/``false`` are booleans, ``yes``/``no``/``on``/
  ``off`` are text, ``~``/``null``/empty are null, ``12``/``-3`` are integers; anything else
  that YAML 1.2 would read as a number, a date, a merge key (``<<``) or ``=`` gives up;
- an explicit tag (``!!str``, ``!custom``), a ``%`` directive, a duplicate key, a key that is
  not a scalar, and NEL/LS/PS characters (line breaks in 1.1 only) give up;
- anything libyaml refuses (a syntax error, several documents) gives up, so ruamel reports it.

Anchors and aliases give the same value twice, as in ruamel. Before anything is built, the
node graph is checked against :mod:`monitor.config.yamllimits` (depth, aliases, expansion):
:class:`YamlLimitError` is final, the round-trip loader would refuse the same file.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from monitor.config.yamllimits import check_nodes, check_size

try:
    from yaml.cyaml import CParser
except ImportError:  # PyYAML built without libyaml: every file goes to the round-trip loader
    CParser = None

__all__ = ["NeedsRoundTrip", "fast_load"]


class NeedsRoundTrip(Exception):
    """This text must be read by the round-trip loader (an error, or YAML 1.1/1.2 ambiguity)."""


# Private tags: a tag written in the file can never equal one of these, so it gives up.
_STR, _INT, _BOOL, _NULL, _ODD = (
    f"tag:monitor.fast:{t}" for t in ("str", "int", "bool", "null", "odd")
)
_MAP, _SEQ = "tag:monitor.fast:map", "tag:monitor.fast:seq"

_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = frozenset({"~", "null", "Null", "NULL"})
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
# ruamel's YAML 1.2 float, int and timestamp resolvers (ruamel/yaml/resolver.py), merged: a
# plain scalar starting with one of these characters that matches is not text in ruamel.
_NUMBER_START = frozenset("-+0123456789.")
_TYPED_12 = re.compile(
    r"""^(?:
     [-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN)
    |[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]\ -[0-9][0-9]?\ -[0-9][0-9]?
     (?:[Tt]|[\ \t]+)[0-9][0-9]?
     :[0-9][0-9]\ :[0-9][0-9]\ (?:\.[0-9]*)?
     (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    re.X,
)
# Line breaks in YAML 1.1 only, directives (``%YAML 1.1`` would change every resolver), and the
# non-specific tag ``!`` (libyaml resolves ``! 5`` as if it were plain).
_YAML_11_BREAKS = ("\x85", "\u2028", "\u2029")
_NON_SPECIFIC_TAG = re.compile(r"(?:^|[\s\[{,])!(?=[\s,\]}]|$)", re.M)


class _Parser(CParser or object):  # type: ignore[misc]  # libyaml's parser, our resolver
    def descend_resolver(self, parent: Any, index: Any) -> None:
        pass  # path-based resolvers: none

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is MappingNode:
            return _MAP
        if kind is SequenceNode:
            return _SEQ
        if not implicit[0]:  # quoted
            return _STR
        if not value:
            return _NULL
        first = value[0]
        if first in "tTfF" and value in _BOOLS:
            return _BOOL
        if first in "nN~" and value in _NULLS:
            return _NULL
        if first in _NUMBER_START:
            if _DECIMAL.fullmatch(value):
                return _INT
            if _TYPED_12.match(value):
                return _ODD
        if value == "<<" or value == "=":
            return _ODD
        return _STR


def fast_load(text: str) -> Any:
    """The plain Python value of a YAML document, as ruamel's round-trip loader would give it
    after :meth:`YamlDoc.plain`; raises :class:`NeedsRoundTrip` when it cannot be sure, and
    :class:`~monitor.config.yamllimits.YamlLimitError` when the file is too costly to read."""
    check_size(text)
    if CParser is None:
        raise NeedsRoundTrip("PyYAML has no libyaml")
    if (
        any(ch in text for ch in _YAML_11_BREAKS)
        or text.startswith("%")
        or "\n%" in text
        or ("!" in text and _NON_SPECIFIC_TAG.search(text))
    ):  # str scans, not a regex over the whole file: a 50k-alias file is 2 MB
        raise NeedsRoundTrip("a directive, a `!` tag or a YAML 1.1 line break")
    parser = _Parser(text)
    try:
        node = parser.get_single_node()
    except yaml.YAMLError as exc:
        raise NeedsRoundTrip(str(exc)) from None
    finally:
        parser.dispose()
    if node is None:
        return None
    check_nodes(node)
    return _Builder().value(node)


class _Builder:
    def __init__(self) -> None:
        self.done: dict[int, Any] = {}  # collection nodes already built (anchors, aliases)

    def value(self, node: Any) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        cls = node.__class__
        if cls is ScalarNode:
            if tag == _INT:
                return int(node.value)
            if tag == _BOOL:
                return _BOOLS[node.value]
            if tag == _NULL:
                return None
            raise NeedsRoundTrip(f"scalar {node.value!r} with tag {tag}")
        built = self.done.get(id(node))
        if built is not None:
            return built
        if tag == _SEQ:
            items: list[Any] = []
            self.done[id(node)] = items
            items.extend(self.value(item) for item in node.value)
            return items
        if tag == _MAP:
            mapping: dict[Any, Any] = {}
            self.done[id(node)] = mapping
            for key_node, value_node in node.value:
                if key_node.__class__ is not ScalarNode:
                    raise NeedsRoundTrip("a key that is not a scalar")
                key = self.value(key_node)
                if key in mapping:
                    raise NeedsRoundTrip(f"duplicate key {key!r}")
                mapping[key] = self.value(value_node)
            return mapping
        raise NeedsRoundTrip(f"node with tag {tag}")

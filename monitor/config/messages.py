"""Turn pydantic validation errors into one-line problems that say what to fix."""

from __future__ import annotations

import difflib
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from monitor.config.yamlpos import KEY_ALIASES, Loc, Problem, YamlDoc, describe_loc

__all__ = ["did_you_mean", "validate_at"]

M = TypeVar("M", bound=BaseModel)

_PLAIN_MESSAGES = {
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be text",
    "list_type": "must be a list, e.g. [a, b]",
    "tuple_type": "must be a list, e.g. [a, b]",
    "too_short": "must not be empty",
}


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The closest choice to ``word`` (difflib), or ``None``."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def validate_at(
    model: type[M], data: Any, doc: YamlDoc, loc: Loc, problems: list[Problem], *, shape: str
) -> M | None:
    """Validate ``data`` (found at ``loc`` in ``doc``) as ``model``; problems are appended.

    ``shape`` says what the value should look like when it is not a mapping at all.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(_problem(model, error, doc, loc, shape))
        return None


def _problem(model: type[BaseModel], error: Any, doc: YamlDoc, prefix: Loc, shape: str) -> Problem:
    loc: Loc = (*prefix, *_clean_loc(error["loc"]))
    what = describe_loc(doc.root, loc)
    kind = error["type"]
    fields = [name for name in error["loc"] if isinstance(name, str)]
    field = fields[-1] if fields else None
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        allowed = _allowed_keys(model)
        guess = did_you_mean(key, allowed)
        fix = f"did you mean '{guess}'?" if guess else f"allowed keys: {', '.join(allowed)}"
        return doc.problem(loc, f"unknown key '{key}' in {what}; {fix}", key=True)
    if kind == "missing":
        return doc.problem(loc, f"{what} has no '{field}'; add `{field}: ...`")
    if kind in ("model_type", "dict_type", "model_attributes_type") and field is None:
        return doc.problem(loc, f"{what} must be a mapping; {shape}")
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        value = error["input"]
        guess = did_you_mean(str(value), choices)
        fix = f"did you mean '{guess}'? " if guess else ""
        return doc.problem(
            loc, f"unknown {field} '{value}' in {what}; {fix}(use one of {', '.join(choices)})"
        )
    if kind in ("value_error", "assertion_error"):
        head, sep, tail = str(error["ctx"]["error"]).partition(";")
        if head == "empty value" and field:
            head = f"empty {field}"
        return doc.problem(loc, f"{head} in {what}{sep}{tail}")
    if kind in ("greater_than_equal", "greater_than"):
        bound = next(iter(error.get("ctx", {}).values()), 0)
        return doc.problem(loc, f"{field} in {what} must be at least {bound}")
    text = _PLAIN_MESSAGES.get(kind, error["msg"][:1].lower() + error["msg"][1:])
    subject = field if field else "value"
    return doc.problem(loc, f"{subject} in {what} {text}")


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    """Drop pydantic's union/validator tags (``literal['all']``, ``function-before[...]``)."""
    return tuple(part for part in loc if isinstance(part, int) or not _is_tag(part))


def _is_tag(part: str) -> bool:
    return "[" in part or part.startswith(("function-", "literal"))


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    keys = list(model.model_fields)
    for field, alias in KEY_ALIASES.items():
        if field in keys:
            keys.append(alias)
    return keys

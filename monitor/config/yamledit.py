"""Round-trip YAML for in-place edits: load a file keeping comments, order and quoting, move
the comment lines that follow an item when items are added or removed, write atomically.

ruamel keeps the comment lines that follow an item (blank lines, a comment heading the next
section) on the item's last value; appending or removing an item moves them along so they stay
where they were in the file. A file with nothing changed dumps to the same bytes.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from monitor.config.loader import load_watchlist
from monitor.errors import ConfigError

__all__ = [
    "RoundTripDoc",
    "append_item",
    "delete_item",
    "give_trailing",
    "is_block",
    "take_trailing",
    "write_atomically",
]


class RoundTripDoc:
    """One YAML file loaded for a round trip."""

    def __init__(self, path: Path) -> None:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        self.path = path
        try:
            self.original = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(
                f"watchlist file '{path}' not found", hint="pass --channels FILE"
            ) from None
        except OSError as exc:
            raise ConfigError(f"cannot read watchlist file '{path}': {exc.strerror}") from None
        self.yaml = YAML(typ="rt")
        self.yaml.preserve_quotes = True
        self.yaml.width = 4096  # never re-wrap a long line
        self.yaml.indent(mapping=2, sequence=4, offset=2)
        try:
            self.root = self.yaml.load(self.original.decode("utf-8-sig"))
        except (YAMLError, UnicodeDecodeError):
            self.root = None
        if self.root is None or not hasattr(self.root, "ca"):
            # Let the loader say what is wrong, with its position.
            load_watchlist(path)
            raise ConfigError(f"{path}: the top level must be a mapping")

    def dump(self) -> str:
        out = io.StringIO()
        self.yaml.dump(self.root, out)
        return out.getvalue()


# -- comments that follow an item ------------------------------------------------------------------


def is_block(node: Any) -> bool:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    return isinstance(node, CommentedMap | CommentedSeq) and bool(node) and not node.fa.flow_style()


def _last_slot(node: Any) -> tuple[Any, Any, int]:
    """(container, key, index in its comment list) where ruamel keeps what follows ``node``."""
    from ruamel.yaml.comments import CommentedMap

    while True:
        if isinstance(node, CommentedMap):
            key = list(node)[-1]
            if is_block(node[key]):
                node = node[key]
                continue
            return node, key, 2
        index = len(node) - 1
        if is_block(node[index]):
            node = node[index]
            continue
        return node, index, 0


def take_trailing(node: Any) -> str:
    """Detach the full-line comments and blank lines after ``node``'s last line; returns them."""
    if not is_block(node):
        return ""
    container, key, i = _last_slot(node)
    slot = container.ca.items.get(key)
    token = slot[i] if slot and len(slot) > i else None
    if token is None or "\n" not in token.value:
        return ""
    head, _, rest = token.value.partition("\n")
    if not rest:
        return ""
    if head.strip():
        token.value = head + "\n"
    else:
        slot[i] = None
    return rest


def give_trailing(node: Any, text: str) -> None:
    """Attach ``text`` (full-line comments, blank lines) after ``node``'s last line."""
    if not text or not is_block(node):
        return
    _give_at(*_last_slot(node), text)


def _give_at(container: Any, key: Any, i: int, text: str) -> None:
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    slot = container.ca.items.get(key)
    token = slot[i] if slot and len(slot) > i else None
    if token is not None:
        token.value = (token.value if token.value.endswith("\n") else token.value + "\n") + text
        return
    token = CommentToken("\n" + text, CommentMark(0), None)
    if isinstance(container, CommentedMap):
        container.ca.items.setdefault(key, [None, None, None, None])[2] = token
    else:
        container.ca.items.setdefault(key, [None, None, None, None])[0] = token


def _take_after(seq: Any, index: int) -> str:
    """Detach the comment lines that follow ``seq[index]`` (not its own end-of-line comment)."""
    if is_block(seq[index]):
        return take_trailing(seq[index])
    slot = seq.ca.items.get(index)
    token = slot[0] if slot else None
    if token is None or "\n" not in token.value:
        return ""
    head, _, rest = token.value.partition("\n")
    if not rest:
        return ""
    if head.strip():
        token.value = head + "\n"
    else:
        slot[0] = None
    return rest


def _give_after(seq: Any, index: int, text: str) -> None:
    if not text:
        return
    if is_block(seq[index]):
        give_trailing(seq[index], text)
    else:
        _give_at(seq, index, 0, text)


def append_item(seq: Any, item: Any) -> None:
    """Append ``item`` after the last item, before the comments that followed it."""
    if not is_block(seq):
        seq.append(item)
        return
    trailing = _take_after(seq, len(seq) - 1)
    seq.append(item)
    _give_after(seq, len(seq) - 1, trailing)


def delete_item(seq: Any, index: int, parent: Any, key: str) -> None:
    """Delete ``seq[index]``; the comment lines after it stay where they were."""
    trailing = _take_after(seq, index) if is_block(seq) else ""
    del seq[index]
    if not trailing:
        return
    if index > 0:
        _give_after(seq, index - 1, trailing)
    elif seq:  # the first item went: its followers' comments go before the new first item
        _give_before_first(seq, trailing)
    else:  # the list is now empty (`[]`): they follow its key
        _give_at(parent, key, 2, trailing)


def _give_before_first(seq: Any, text: str) -> None:
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    comment = seq.ca.comment
    if comment is None:
        seq.ca.comment = comment = [None, []]
    while len(comment) < 2:
        comment.append([])
    if comment[1] is None:
        comment[1] = []
    column = comment[1][0].column if comment[1] else 0
    for line in text.splitlines(keepends=True):
        comment[1].append(CommentToken(line.lstrip(" ") or "\n", CommentMark(column), None))


def write_atomically(path: Path, data: bytes, expected: bytes) -> None:
    """Replace ``path`` with ``data`` via a temporary file in its folder (same mode); refuse if
    the file changed since it was read (another editor saved meanwhile)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    # A dot name: never matched by an `include:` glob such as entities/*.yaml.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".edit")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if path.read_bytes() != expected:
            raise ConfigError(
                f"{path} changed while it was being edited; nothing written",
                hint="run the command again",
            )
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself survives a crash
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

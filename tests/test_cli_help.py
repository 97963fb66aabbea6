"""The CLI documents itself, and the README's commands are real (STYLE.md 23).

* Every command and subcommand's help has an ``Example:`` line that invokes that very command
  (``monitor <path> ...``, optionally after ``VAR=value`` assignments), and ``--help`` shows it.
* The README's Quickstart is exactly two shell commands: one runs the demo, one runs the tests,
  and the test command is the one ``.ci/run`` runs.
* Every ``monitor <command>`` in the README's shell code exists in the CLI.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from monitor.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"

ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SHELL_OPERATORS = frozenset({"|", "||", "&&", ";", "&", "(", ")", "|&", ";;"})
SHELL_LANGUAGES = frozenset({"", "sh", "bash", "shell", "console", "zsh", "shell-session"})


# --- the command tree -------------------------------------------------------------------------


def walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command in the tree as ``(path below monitor, command)``, the root first."""
    found = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += walk(sub, (*path, name))
    return found


ROOT_COMMAND = typer.main.get_command(app)
COMMANDS = dict(walk(ROOT_COMMAND))


def command_id(path: tuple[str, ...]) -> str:
    return " ".join(("monitor", *path))


def examples(help_text: str | None) -> list[str]:
    return [
        line.strip().removeprefix("Example:").strip()
        for line in (help_text or "").splitlines()
        if line.strip().startswith("Example:")
    ]


def shell_words(command_line: str) -> list[str]:
    """Split like a POSIX shell, with ``|``, ``&&`` and ``;`` as words of their own."""
    lexer = shlex.shlex(command_line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def test_the_tree_is_walked():
    # A guard for the walk itself: groups must be found, or the tests below check nothing.
    assert ("db", "upgrade") in COMMANDS
    assert ("channels", "check") in COMMANDS
    assert len(COMMANDS) > 10


def test_root_help_exits_zero_and_lists_every_command():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: monitor" in result.output
    for name in ROOT_COMMAND.commands:
        assert re.search(rf"\b{re.escape(name)}\b", result.output), f"`{name}` not in --help"


@pytest.mark.parametrize("path", list(COMMANDS), ids=command_id)
def test_every_command_has_an_example_that_runs_it(path):
    lines = examples(COMMANDS[path].help)
    assert lines, f"`{command_id(path)}`: help has no line starting with 'Example:'"
    for example in lines:
        words = shell_words(example)
        while words and ENV_ASSIGNMENT.match(words[0]):
            words.pop(0)
        assert words[: 1 + len(path)] == ["monitor", *path], (
            f"`{command_id(path)}`: the example {example!r} should start with "
            f"`{command_id(path)}` (optionally after VAR=value assignments)"
        )
        for arguments in monitor_invocations(example):
            assert invalid_command(arguments) is None, f"{example!r}: {invalid_command(arguments)}"


@pytest.mark.parametrize("path", list(COMMANDS), ids=command_id)
def test_help_output_shows_the_example(path):
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    # Rich wraps long lines; compare without whitespace. This also catches examples whose
    # [brackets] Rich would swallow as markup.
    shown = re.sub(r"\s+", "", result.output)
    for example in examples(COMMANDS[path].help):
        assert re.sub(r"\s+", "", f"Example: {example}") in shown, (
            f"`{command_id(path)} --help` does not show {example!r}:\n{result.output}"
        )


# --- the README -------------------------------------------------------------------------------


@dataclass
class CodeBlock:
    language: str
    section: str  # the nearest heading above it
    lines: list[str]
    line_number: int  # of the opening fence


@dataclass
class Markdown:
    blocks: list[CodeBlock]
    inline_code: list[str]


def parse_markdown(text: str) -> Markdown:
    """Fenced code blocks (with the heading they sit under) and inline code spans."""
    blocks: list[CodeBlock] = []
    inline: list[str] = []
    section = ""
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if fence is None:
            match = re.match(r"^(`{3,}|~{3,})\s*([\w+-]*)", stripped)
            if match:
                fence = match.group(1)
                blocks.append(CodeBlock(match.group(2).lower(), section, [], number))
            elif re.match(r"^#{1,6}\s", stripped):
                section = stripped.lstrip("#").strip()
            else:
                inline += re.findall(r"(?<!`)`([^`]+)`(?!`)", line)
        elif stripped.startswith(fence) and set(stripped) == {fence[0]}:
            fence = None
        else:
            blocks[-1].lines.append(line)
    return Markdown(blocks, inline)


def shell_commands(block: CodeBlock) -> list[str]:
    """The commands in a shell block: prompts stripped, continuations joined, comments dropped."""
    lines = block.lines
    if any(line.lstrip().startswith("$ ") for line in lines):
        # A console transcript: only prompted lines (and their continuations) are commands.
        prompted, continued = [], False
        for line in lines:
            if line.lstrip().startswith("$ "):
                prompted.append(line.lstrip()[2:])
            elif continued:
                prompted.append(line)
            else:
                continue
            continued = line.rstrip().endswith("\\")
        lines = prompted
    commands: list[str] = []
    pending = ""
    for line in lines:
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        commands.append(pending + stripped)
        pending = ""
    if pending.strip():
        commands.append(pending.strip())
    return commands


def segments(command_line: str) -> list[list[str]]:
    """Simple commands of a shell line (split at ``&&``, ``|``, ``;``, ...)."""
    parts: list[list[str]] = [[]]
    for word in shell_words(command_line):
        if word in SHELL_OPERATORS:
            parts.append([])
        else:
            parts[-1].append(word)
    return [part for part in parts if part]


def without_env(words: list[str]) -> list[str]:
    index = 0
    while index < len(words) and ENV_ASSIGNMENT.match(words[index]):
        index += 1
    return words[index:]


def monitor_invocations(command_line: str) -> list[list[str]]:
    """The arguments of every ``monitor ...`` simple command in a shell line."""
    found = []
    for words in segments(command_line):
        words = without_env(words)
        if words and Path(words[0]).name == "monitor":
            found.append(words[1:])
    return found


def invalid_command(arguments: list[str]) -> str | None:
    """Why ``monitor <arguments>`` names no command or an unknown option, or None if it is fine.

    Placeholders (``<command>``, ``ID``) end the check; ``[--opt X]`` and ``a|--b`` are read as
    the usage notation of the README's command table.
    """
    command, path = ROOT_COMMAND, []
    takes_value = False
    for index, word in enumerate(arguments):
        subcommands = getattr(command, "commands", None)
        if subcommands is None:  # a leaf command: the rest are its options and arguments
            return unknown_option(command, path, arguments[index:])
        if takes_value:  # the value of a group option such as --data-dir DIR
            takes_value = False
            continue
        if word.startswith("-"):  # a group option such as --debug or --data-dir DIR
            option = next((p for p in command.params if word.split("=")[0] in p.opts), None)
            if option is None and word not in ("--help", "-h"):
                return f"`{command_id(tuple(path))}` has no option {word}"
            takes_value = option is not None and not option.is_flag and "=" not in word
            continue
        if word[0] in "<[{" or word.isupper():  # a placeholder: `monitor <command>`, COMMAND
            return None
        if word not in subcommands:
            return f"`{command_id((*path, word))}`: no such command in `{command_id(tuple(path))}`"
        command, path = subcommands[word], [*path, word]
    return None


def unknown_option(command: Any, path: list[str], words: list[str]) -> str | None:
    known = {"--help", "-h"}
    for param in command.params:
        known.update(param.opts, param.secondary_opts)
    for word in words:
        for part in word.strip("[]").split("|"):
            name = part.split("=")[0]
            if name.startswith("--") and name not in known:
                return f"`{command_id(tuple(path))}` has no option {name}"
    return None


def pytest_segments(command_line: str) -> list[list[str]]:
    return [without_env(words) for words in segments(command_line) if "pytest" in " ".join(words)]


@pytest.fixture(scope="module")
def readme() -> Markdown:
    if not README.exists():
        pytest.skip(f"{README} does not exist yet (the README is being written)")
    return parse_markdown(README.read_text(encoding="utf-8"))


def quickstart_commands(readme: Markdown) -> list[str]:
    """The commands of the first code block under the 'Quickstart' heading."""
    blocks = [block for block in readme.blocks if "quickstart" in block.section.lower()]
    assert blocks, "README.md has no code block under a 'Quickstart' heading"
    return shell_commands(blocks[0])


def test_readme_quickstart_is_two_commands_demo_and_tests(readme):
    commands = quickstart_commands(readme)
    assert len(commands) == 2, f"the Quickstart should be exactly two commands, found {commands}"
    tests = [command for command in commands if pytest_segments(command)]
    assert len(tests) == 1, f"exactly one Quickstart command should run pytest: {commands}"
    demo = [
        command for command in commands if ["demo"] in [a[:1] for a in monitor_invocations(command)]
    ]
    assert len(demo) == 1, f"exactly one Quickstart command should run `monitor demo`: {commands}"


def test_readme_test_command_is_what_ci_runs(readme):
    (tests,) = [command for command in quickstart_commands(readme) if pytest_segments(command)]
    ci_commands = [
        shell_words(line)
        for line in CI_RUN.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert shell_words(tests) in ci_commands, (
        f"the README's test command is not a command line of .ci/run:\n  {tests}\n"
        f".ci/run runs pytest as: {[shlex.join(w) for w in ci_commands if any('pytest' in x for x in w)]}"
    )


def test_every_monitor_command_in_the_readme_exists(readme):
    lines = [
        (f"README.md:{block.line_number}", command)
        for block in readme.blocks
        if block.language in SHELL_LANGUAGES
        for command in shell_commands(block)
    ]
    lines += [
        ("README.md (inline)", code) for code in readme.inline_code if code.startswith("monitor ")
    ]
    problems = []
    mentioned = 0
    for where, line in lines:
        for arguments in monitor_invocations(line):
            mentioned += 1
            problem = invalid_command(arguments)
            if problem:
                problems.append(f"{where}: {line!r}: {problem}")
    assert mentioned, "README.md shows no `monitor ...` command at all"
    assert not problems, "\n".join(problems)


# --- the README checks can fail ---------------------------------------------------------------

SAMPLE = """\
# Tool

## Quickstart

```bash
pip install -e '.[dev]' && monitor demo   # the demo
python -m pytest
```

## Use

```console
$ MONITOR_DATA_DIR=/srv monitor db upgrade \\
    --data-dir /srv
upgraded
$ monitor --debug channels nope
```

```yaml
# not a heading
url: monitor nope
```

Run `monitor flags list`, or `monitor bogus`.
"""


def test_markdown_parsing_on_a_sample():
    doc = parse_markdown(SAMPLE)
    assert [block.section for block in doc.blocks] == ["Quickstart", "Use", "Use"]
    assert quickstart_commands(doc) == [
        "pip install -e '.[dev]' && monitor demo   # the demo",
        "python -m pytest",
    ]
    assert shell_commands(doc.blocks[1]) == [
        "MONITOR_DATA_DIR=/srv monitor db upgrade  --data-dir /srv",
        "monitor --debug channels nope",
    ]
    assert pytest_segments("python -m pytest") == [["python", "-m", "pytest"]]
    assert invalid_command(["db", "upgrade", "--data-dir", "/srv"]) is None
    assert invalid_command(["--debug", "channels", "nope"]) is not None
    assert invalid_command(["--data-dir", "/srv/monitor", "flags", "list"]) is None
    assert invalid_command(["--nope", "flags", "list"]) is not None
    assert invalid_command(["bogus"]) is not None
    assert invalid_command(["demo", "[--serve]"]) is None
    assert invalid_command(["alerts", "retry", "ID|--all-failed"]) is None
    assert "no option --nope" in invalid_command(["demo", "[--nope]"])
    assert "monitor bogus" in doc.inline_code

"""Point a validation problem at the line of the policy file it is about.

The policy format reports problems by key path ("rules[1].window.length: …"); an admin
editing the file wants the line. This reads the TOML text line by line, keeping track of
the table headers (`[sla]`, the n-th `[[rules]]`), and remembers where each key path
starts. A key inside an inline table (`window = { length = "5d" }`) is on the line of the
table; a missing key is shown at its table's header. Syntax errors carry their own line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Part = str | int

_PATH_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")
# A key as a problem names it: no spaces, so "not valid TOML: …" is not mistaken for one.
_KEY = re.compile(r"[A-Za-z0-9_\-]+(?:\[\d+\])*(?:\.[A-Za-z0-9_\-]+(?:\[\d+\])*)*")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGNMENT = re.compile(r"^\s*((?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)"
                         r"(?:\s*\.\s*(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=")
_SYNTAX_LINE = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True)
class Problem:
    key: str  # "" when the problem names no key
    message: str
    line: int | None  # 1-based line of the file, when it can be found


def _parts(path: str) -> tuple[Part, ...]:
    return tuple(int(index) if index else name for index, name in _PATH_PART.findall(path))


def _dotted(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in re.findall(
        r"\"[^\"]*\"|'[^']*'|[^.]+", text)]


def key_lines(text: str) -> dict[tuple[Part, ...], int]:
    """Each key path of the file (as tuples like ("rules", 1, "window")) → its first line."""
    lines: dict[tuple[Part, ...], int] = {}
    table: tuple[Part, ...] = ()
    counts: dict[tuple[Part, ...], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("#"):
            names = tuple(_dotted(header.group(2)))
            # `[[rules.x]]` under the n-th rule belongs to that rule: resolve the parent
            # path through the array-of-tables seen so far.
            parent: tuple[Part, ...] = ()
            for name in names[:-1]:
                parent += (name,)
                if parent in counts:
                    parent += (counts[parent] - 1,)
            path = (*parent, names[-1])
            if header.group(1) == "[[":
                counts[path] = counts.get(path, 0) + 1
                table = (*path, counts[path] - 1)
            else:
                table = path
            lines.setdefault(table, number)
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            lines.setdefault((*table, *_dotted(assignment.group(1))), number)
    return lines


def locate(problem: str, text: str, lines: dict[tuple[Part, ...], int] | None = None
           ) -> Problem:
    """A "key: message" problem with the line its key is on (or its nearest table)."""
    syntax = _SYNTAX_LINE.search(problem)
    if syntax:
        return Problem("", problem, int(syntax.group(1)))
    key, separator, message = problem.partition(": ")
    if not separator or not _KEY.fullmatch(key):
        return Problem("", problem, None)
    found = key_lines(text) if lines is None else lines
    parts = _parts(key)
    # The key itself, else the nearest enclosing key or table that the file has.
    for end in range(len(parts), 0, -1):
        if parts[:end] in found:
            return Problem(key, message, found[parts[:end]])
    return Problem(key, message, None)


def locate_all(problems: list[str], text: str) -> list[Problem]:
    lines = key_lines(text)
    return [locate(problem, text, lines) for problem in problems]

"""Line numbers for values in a TOML text, which tomllib does not report.

A light scan of the raw text: it follows table headers (`[a]`, `[[a.b]]`, counting array-of-table
entries the way TOML does) and `key = value` lines, skipping multi-line strings and arrays, and
records where each table starts and where each key and each line of its value sit. Paths mirror the
parsed document: `("milestones", 2, "depends_on")` is the third `[[milestones]]` entry's key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

Path = tuple[str | int, ...]

_BARE_KEY = r"[A-Za-z0-9_-]+"
_KEY_PART = rf"(?:{_BARE_KEY}|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
_KEY_LINE = re.compile(rf"^\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*\]")
_PART = re.compile(_KEY_PART)


def _split_key(dotted: str) -> tuple[str, ...]:
    parts = []
    for raw in _PART.findall(dotted):
        if raw[0] in "\"'":
            raw = raw[1:-1]
        parts.append(raw)
    return tuple(parts)


@dataclass
class _Table:
    header: int
    keys: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (first, last) line


@dataclass
class _ScanState:
    depth: int = 0
    multiline: str | None = None  # the open '"""' or "'''"

    @property
    def clean(self) -> bool:
        return self.depth == 0 and self.multiline is None

    def feed(self, text: str) -> None:
        """Advance over one line's worth of value text."""
        i, n = 0, len(text)
        while i < n:
            if self.multiline:
                end = text.find(self.multiline, i)
                if end < 0:
                    return
                i = end + 3
                self.multiline = None
                continue
            ch = text[i]
            if ch == "#":
                return
            if text.startswith('"""', i) or text.startswith("'''", i):
                self.multiline = text[i : i + 3]
                i += 3
            elif ch == '"':
                i += 1
                while i < n and text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
                i += 1
            elif ch == "'":
                end = text.find("'", i + 1)
                i = n if end < 0 else end + 1
            else:
                if ch in "[{":
                    self.depth += 1
                elif ch in "]}":
                    self.depth = max(0, self.depth - 1)
                i += 1


class Locator:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self._tables: dict[Path, _Table] = {(): _Table(header=1)}
        self._scan()

    def _scan(self) -> None:
        counts: dict[Path, int] = {}
        last_entry: dict[tuple[str, ...], Path] = {}
        current: Path = ()
        state = _ScanState()
        open_key: tuple[Path, str] | None = None

        def resolve(names: tuple[str, ...]) -> Path:
            path: Path = ()
            for i, name in enumerate(names):
                path += (name,)
                if names[: i + 1] in last_entry:
                    path = last_entry[names[: i + 1]]
            return path

        for lineno, line in enumerate(self.lines, start=1):
            if not state.clean:
                state.feed(line)
                if state.clean and open_key:
                    table, key = open_key
                    first, _ = self._tables[table].keys[key]
                    self._tables[table].keys[key] = (first, lineno)
                    open_key = None
                continue
            if m := _ARRAY_HEADER.match(line):
                names = _split_key(m.group(1))
                array = (*resolve(names[:-1]), names[-1])
                index = counts.get(array, 0)
                counts[array] = index + 1
                current = (*array, index)
                last_entry[names] = current
                self._tables[current] = _Table(header=lineno)
            elif m := _TABLE_HEADER.match(line):
                current = resolve(_split_key(m.group(1)))
                self._tables.setdefault(current, _Table(header=lineno))
            elif m := _KEY_LINE.match(line):
                names = _split_key(m.group(1))
                table = current + names[:-1]
                for depth in range(len(names) - 1):
                    self._tables.setdefault(current + names[: depth + 1], _Table(header=lineno))
                    outer = self._tables[current + names[:depth]]
                    outer.keys.setdefault(names[depth], (lineno, lineno))
                self._tables[table].keys.setdefault(names[-1], (lineno, lineno))
                state.feed(line[m.end() :])
                if not state.clean:
                    open_key = (table, names[-1])

    def line(self, path: Path, key: str | None = None) -> int:
        """The line of `key` in the table at `path`, falling back to the nearest enclosing place."""
        while True:
            table = self._tables.get(path)
            if table is not None:
                if key is not None and key in table.keys:
                    return table.keys[key][0]
                return table.header
            if not path:
                return 1
            # an entry written inline (`milestones = [{...}]`): fall back to the key holding it
            parent, last = path[:-1], path[-1]
            if isinstance(last, str):
                key, path = last, parent
            else:
                path = parent

    def value_line(self, path: Path, key: str, value: str) -> int:
        """The line, within `key`'s value, that holds the string `value` (for array items)."""
        table = self._tables.get(path)
        if table is None or key not in table.keys:
            return self.line(path, key)
        first, last = table.keys[key]
        pattern = re.compile(rf"([\"']){re.escape(value)}\1")
        for lineno in range(first, last + 1):
            text = self.lines[lineno - 1]
            if lineno == first:
                text = text.split("=", 1)[-1]
            if pattern.search(text):
                return lineno
        return first

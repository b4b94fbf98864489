"""What a log file holds, read by the tests themselves: an independent, hand-written reader of the two formats
(no regex shared with the models), so expected counts come from the files, never from the models."""

from __future__ import annotations

import gzip
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


def file_lines(path: Path) -> list[bytes]:
    """The file's lines without their newline; a last line without one is a line too."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


class _Cursor:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def token(self) -> str | None:
        """Characters up to the next space (at least one, no whitespace)."""
        end = self.text.find(" ", self.pos)
        end = len(self.text) if end < 0 else end
        value = self.text[self.pos : end]
        if not value or any(c.isspace() for c in value):
            return None
        self.pos = end
        return value

    def literal(self, s: str) -> bool:
        if self.text.startswith(s, self.pos):
            self.pos += len(s)
            return True
        return False

    def quoted(self) -> str | None:
        """A double-quoted field with backslash escapes; returns the text between the quotes as written."""
        if not self.literal('"'):
            return None
        start = self.pos
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "\\":
                if self.pos + 1 >= len(self.text):
                    return None
                self.pos += 2
            elif c == '"':
                value = self.text[start : self.pos]
                self.pos += 1
                return value
            else:
                self.pos += 1
        return None

    def done(self) -> bool:
        return self.pos == len(self.text)


def _number(text: str | None) -> bool:
    if not text:
        return False
    whole, _, frac = text.partition(".")
    return whole.isdigit() and whole.isascii() and (frac == "" or (frac.isdigit() and frac.isascii()))


def _upstream(text: str) -> bool:
    parts = text.replace(" : ", ", ").split(", ")
    return all(p == "-" or _number(p) for p in parts) and (text == "-" or _number(parts[0]))


def read_line(text: str) -> dict | None:
    """The fields of an access-log line in the nginx timed or the Combined format, else None."""
    c = _Cursor(text)
    host = c.token()
    if host is None or not c.literal(" ") or c.token() is None or not c.literal(" "):
        return None
    user = c.token()
    if user is None or not c.literal(" ["):
        return None
    end = text.find("]", c.pos)
    stamp = text[c.pos : end] if end > 0 else ""
    if len(stamp) != 26:
        return None
    c.pos = end + 1
    if not c.literal(" "):
        return None
    request = c.quoted()
    if request is None or not c.literal(" "):
        return None
    status = c.token()
    if status is None or len(status) != 3 or not status.isdigit() or not c.literal(" "):
        return None
    size = c.token()
    if size is None or not (size == "-" or (size.isdigit() and size.isascii())) or not c.literal(" "):
        return None
    referer = c.quoted()
    if referer is None or not c.literal(" "):
        return None
    agent = c.quoted()
    if agent is None:
        return None
    fields = {"host": host, "stamp": stamp, "request": request, "status": int(status),
              "bytes": 0 if size == "-" else int(size), "agent": agent, "format": "combined",
              "request_time": None}  # fmt: skip
    if c.done():
        return fields
    if not c.literal(" "):
        return None
    request_time = c.token()
    if not (request_time == "-" or _number(request_time)) or not c.literal(" "):
        return None
    rest = text[c.pos :]
    if not rest or not _upstream(rest):
        return None
    fields.update(format="nginx_timed", request_time=None if request_time == "-" else float(request_time))
    return fields


def looks_like_log_line(text: str) -> bool:
    """Three space-free tokens, then ' [': how the staging model tells a cut line from another format."""
    parts = text.split(" ", 3)
    return len(parts) == 4 and all(parts[:3]) and parts[3].startswith("[")


@dataclass
class FileCount:
    lines: int = 0
    parsed: int = 0
    bytes: int = 0
    invalid_utf8: int = 0
    reasons: Counter = field(default_factory=Counter)
    parsed_rows: list[dict] = field(default_factory=list)


def count_file(path: Path) -> FileCount:
    out = FileCount()
    for number, raw in enumerate(file_lines(path), start=1):
        out.lines += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="backslashreplace")
            out.invalid_utf8 += 1
        fields = read_line(text)
        if fields is not None:
            try:
                datetime.strptime(fields["stamp"], "%d/%b/%Y:%H:%M:%S %z")
            except ValueError:
                out.reasons["unreadable_time"] += 1
                continue
            out.parsed += 1
            out.bytes += fields["bytes"]
            out.parsed_rows.append({**fields, "line_number": number})
        elif text == "":
            out.reasons["empty_line"] += 1
        elif looks_like_log_line(text):
            out.reasons["truncated_or_malformed"] += 1
        else:
            out.reasons["unrecognised_format"] += 1
    return out

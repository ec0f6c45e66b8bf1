"""Where a record came from: the file, the line or row, and the raw text for carets.

Stage: built by the readers (``events.text``, ``events.tables``) for every record;
the acceptance rule (``events.accept``) turns it into the span of a diagnostic.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from foedus.diagnostics import Span

__all__ = ["Where"]


class Where(NamedTuple):
    """Where a record came from: file, line (or row) and, for text formats, the raw line.

    A named tuple: one is built per record read, and most records are valid.
    """

    file: str
    line: int
    raw: str | None = None
    csv_header: tuple[str, ...] | None = None

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"

    def span(self, key: str | None = None, value: Any = None) -> Span:
        """Point at the field's key or value in the raw line when it can be found, else column 1."""
        column, width = 1, 1
        if self.raw is not None and key is not None:
            found = self._find(key, value)
            if found is not None:
                column, width = found
        return Span.point(self.file, self.line, column, width)

    def _find(self, key: str, value: Any) -> tuple[int, int] | None:
        raw = self.raw or ""
        if self.csv_header is not None:
            # Cell offsets are exact only when no cell is quoted.
            if '"' in raw or key not in self.csv_header:
                return None
            cells = raw.split(",")
            index = self.csv_header.index(key)
            if index >= len(cells):
                return None
            start = sum(len(c) + 1 for c in cells[:index])
            return start + 1, max(len(cells[index]), 1)
        quoted = json.dumps(key, ensure_ascii=False)
        at = raw.find(quoted + ":")
        if at < 0:
            at = raw.find(quoted)
        if at < 0:
            return None
        if value is not None and not isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False)
            vat = raw.find(text, at + len(quoted))
            if vat >= 0:
                return vat + 1, len(text)
        return at + 1, len(quoted)

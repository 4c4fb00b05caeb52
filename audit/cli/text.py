"""Text tables the command line prints for people: headers in the current language, each column
as wide as its default or its (translated) header, whichever is wider, so a Danish header does not
push the rows out of line. Machine output (--format json/csv) never goes through here."""
from __future__ import annotations

from collections.abc import Sequence


class Columns:
    """Columns of a text table: `Columns([(_("cases"), 5, ">"), ...])`, then `.header()` and `.row(values)`.
    The last column is not padded (nothing follows it)."""

    def __init__(self, columns: Sequence[tuple[str, int, str]], sep: str = " ") -> None:
        self.titles = [title for title, _w, _a in columns]
        self.widths = [max(width, len(title)) for title, width, _a in columns]
        self.aligns = [align for _t, _w, align in columns]
        self.sep = sep

    def row(self, values: Sequence[object]) -> str:
        last = len(values) - 1
        return self.sep.join(str(v) if i == last and a == "<" else f"{str(v):{a}{w}}"
                             for i, (v, w, a) in enumerate(zip(values, self.widths, self.aligns)))

    def header(self) -> str:
        return self.row(self.titles)

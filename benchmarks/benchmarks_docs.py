"""Write a benchmark's table into docs/performance.md between its own markers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


def markdown(table: pd.DataFrame) -> str:
    """A GitHub markdown table; floats with three significant digits, ints with separators."""

    def cell(v) -> str:
        if isinstance(v, float):
            return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    lines = ["| " + " | ".join(map(str, table.columns)) + " |"]
    lines.append("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)


def write_section(
    name: str, table: pd.DataFrame, machine: str, command: str, notes: str = ""
) -> None:
    """Replace (or append) the block between ``<!-- bench:NAME -->`` markers."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    body = "\n".join(
        [
            begin,
            f"Measured {dt.date.today().isoformat()} on {machine}, with `{command}`.",
            "",
            markdown(table),
            "",
            notes.strip(),
            end,
        ]
    )
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + body + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    DOC.write_text(text)

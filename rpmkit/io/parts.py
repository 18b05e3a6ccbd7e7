"""Tables spread over several files: monthly exports, re-sent files, overlapping extracts.

A folder may hold one table in parts (``invoices_2024-01.csv``,
``invoices_2024-02.csv``, …), and :func:`rpmkit.io.load` accepts a list of
flat files. The parts are read one by one, keeping each row's own file and
line, and stacked into one :class:`~rpmkit.io.readers.RawTable`; the usual key
check then makes loading idempotent: a row repeated in another part (the
same file loaded twice, two exports sharing a week) is an exact duplicate,
skipped and counted once; the same key with different values rejects every
copy, naming the other files and lines.

Examples
--------
>>> part_table("invoices_2024-01")
'invoices'
>>> part_table("Invoices") is None  # a whole table, not a part
True
>>> part_table("invoice_notes") is None
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit.io.readers import RawTable, file_problem, text_frame
from rpmkit.schema import TABLES
from rpmkit.validation import LINE_COL, SOURCE_COL

__all__ = ["combine_parts", "part_table"]

_SEPARATORS = "_-. "


def part_table(stem: str) -> str | None:
    """The canonical table a file stem is a part of (``invoices_2024-01`` → ``invoices``).

    ``None`` when the stem is no part: a bare table name, or a name that only
    starts like one (``invoice_notes``).
    """
    low = stem.lower()
    for table in sorted(TABLES, key=len, reverse=True):
        if len(low) > len(table) + 1 and low.startswith(table) and low[len(table)] in _SEPARATORS:
            return table
    return None


def combine_parts(parts: list[RawTable], *, name: str, source: str) -> RawTable:
    """Stack the parts of one table; each row keeps its own ``_source`` and ``_line``.

    Parts must share their headers (in any order): a part lacking a header
    another part has is a ``missing_column`` problem naming both. A column
    typed in one part and text (or another type) in another becomes text in
    all, exactly as the readers make text. File-level problems and unsplit rows
    of every part are kept; ``info["parts"]`` lists the parts' sources.
    """
    if len(parts) == 1:
        return parts[0]
    problems = [p for part in parts for p in part.problems]
    row_problems = [{"source": part.source, **u} for part in parts for u in part.row_problems]
    info = {"parts": [part.source for part in parts]}
    readable = [part for part in parts if not part.problems]
    headers: list[str] = []
    for part in readable:
        headers += [h for h in part.headers if h not in headers]
    for part in readable:
        missing = [h for h in headers if h not in part.headers]
        if missing:
            has = next(p.source for p in readable if missing[0] in p.headers)
            problems.append(
                file_problem(
                    part.source,
                    "missing_column",
                    f"this part of table {name!r} lacks {', '.join(map(repr, missing))}, "
                    f"which {has} has; parts of one table must share their headers",
                    column=missing[0],
                )
            )
    if problems:
        return RawTable(name, source, pd.DataFrame(), headers, info, problems, row_problems)
    frames = [part.frame[[*headers, SOURCE_COL, LINE_COL]] for part in readable]
    dtypes = [tuple(str(f[h].dtype) for h in headers) for f in frames]
    if len(set(dtypes)) > 1:
        # Mixed types would stack as Python objects: make every part text instead.
        frames = [text_frame(f) for f in frames]
    sources = np.concatenate([f[SOURCE_COL].astype(str).to_numpy() for f in frames])
    stacked = pd.concat([f.drop(columns=[SOURCE_COL]) for f in frames], ignore_index=True)
    stacked[SOURCE_COL] = pd.Categorical(sources, categories=[p.source for p in readable])
    stacked = stacked[[*headers, SOURCE_COL, LINE_COL]]
    raw = RawTable(name, source, stacked, headers, info, problems, row_problems)
    raw.parts = readable
    return raw

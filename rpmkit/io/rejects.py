"""The rejects frame: one row per input row and problem, with the raw record as JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from rpmkit.io.readers import STRING, RawTable, text_frame
from rpmkit.io.result import REJECT_COLUMNS, empty_rejects
from rpmkit.schema import TABLE_ORDER
from rpmkit.validation import LINE_COL, SOURCE_COL, Checked

if TYPE_CHECKING:
    from rpmkit.io.loader import _Table

__all__ = ["IGNORED", "build_rejects", "preset_ignored", "repeats_across_files"]

IGNORED = "_ignored"


def build_rejects(
    checked: dict[str, Checked], tables: dict[str, _Table], raws: dict[str, RawTable]
) -> pd.DataFrame:
    parts = []
    for key, c in checked.items():
        t = tables[key]
        f = c.problems.frame()
        if c.skipped.any():
            f = f[~c.skipped[f["row"].to_numpy()]]
            dup = _exact_duplicates(c)
            f = pd.concat([f, dup], ignore_index=True)
        if len(f):
            rows = f["row"].to_numpy()
            f = f.assign(
                table=c.name,
                source=c.text[SOURCE_COL].astype(str).to_numpy()[rows],
                line=c.text[LINE_COL].to_numpy()[rows],
            )
            f["record"] = _records(c.text, rows, raws)
            parts.append(f)
        if t.unsplit:
            parts.append(
                pd.DataFrame(
                    {
                        "table": c.name,
                        "source": [u["source"] for u in t.unsplit],
                        "line": [u["line"] for u in t.unsplit],
                        "column": "",
                        "reason": "wrong_field_count",
                        "message": [u["message"] for u in t.unsplit],
                        "value": "",
                        "record": [u["text"] for u in t.unsplit],
                    }
                )
            )
    if not parts:
        return empty_rejects()
    out = pd.concat(parts, ignore_index=True)
    out = out[list(REJECT_COLUMNS)]
    order = {k: i for i, k in enumerate(TABLE_ORDER)}
    out["_t"] = out["table"].map(order)
    out = out.sort_values(["_t", "source", "line"], kind="stable").drop(columns="_t")
    out = out.reset_index(drop=True)
    for col in REJECT_COLUMNS:
        out[col] = out[col].astype("Int64" if col == "line" else "string")
    return out


def preset_ignored(ign: pd.DataFrame, raws: dict[str, RawTable], rejects: pd.DataFrame):
    """Input rows a preset could not use: rejects under table ``_ignored``, tallied apart."""
    n = len(ign)
    lines = pd.to_numeric(ign.get(LINE_COL), errors="coerce").astype("Int64")
    text = pd.DataFrame(
        {
            SOURCE_COL: ign.get(SOURCE_COL, pd.Series([""] * n)).astype(str).to_numpy(),
            LINE_COL: lines.fillna(-1).to_numpy(dtype=np.int64),
        }
    )
    records = _records(text, np.arange(n), raws) if n else []
    frame = pd.DataFrame(
        {
            "table": IGNORED,
            "source": text[SOURCE_COL],
            "line": lines.to_numpy(),
            "column": "",
            "reason": ign.get("reason", pd.Series([""] * n)).astype(str).to_numpy(),
            "message": ign.get("message", pd.Series([""] * n)).astype(str).to_numpy(),
            "value": "",
            "record": records,
        }
    )
    for col in REJECT_COLUMNS:
        frame[col] = frame[col].astype("Int64" if col == "line" else "string")
    out = pd.concat([rejects, frame], ignore_index=True) if len(rejects) else frame
    zero = {
        f"{s}_{m}": 0
        for s in ("input", "loaded", "rejected", "skipped")
        for m in ("rows", "amount", "unparsed")
    }
    totals = [
        {
            "table": IGNORED,
            "currency": "?",
            **zero,
            "input_rows": n,
            "rejected_rows": n,
            "balanced": True,
        }
    ]
    counts = {IGNORED: {"input": n, "loaded": 0, "rejected": n, "skipped": 0, "blank_rows": 0}}
    return out, totals, counts


def _first_copies(c: Checked) -> np.ndarray:
    """Per row, the position of the first identical row in input order (files in order)."""
    values = text_frame(
        c.text[[col for col in c.text.columns if col not in (SOURCE_COL, LINE_COL)]]
    ).astype(STRING)
    first = values.groupby(list(values.columns), dropna=False, sort=False).ngroup().to_numpy()
    return pd.Series(np.arange(c.n)).groupby(first).transform("min").to_numpy()


def repeats_across_files(c: Checked) -> int:
    """Exact repeats skipped whose first copy is in another file (parts of one table)."""
    if not c.skipped.any() or c.text[SOURCE_COL].nunique() < 2:
        return 0
    pos = np.flatnonzero(c.skipped)
    sources = c.text[SOURCE_COL].astype(str).to_numpy()
    return int((sources[_first_copies(c)[pos]] != sources[pos]).sum())


def _exact_duplicates(c: Checked) -> pd.DataFrame:
    pos = np.flatnonzero(c.skipped)
    lines = c.lines()
    key_cols = [k for k in c.spec.key if k in c.text.columns]
    order = _first_copies(c)
    sources = c.text[SOURCE_COL].astype(str).to_numpy()
    firsts = dict(zip(pos, lines[order[pos]], strict=True))
    where = {p: "" if sources[order[p]] == sources[p] else f" of {sources[order[p]]}" for p in pos}
    key_text = (
        text_frame(c.text[[key_cols[0]]])[key_cols[0]].astype(STRING)
        if key_cols
        else pd.Series([""] * c.n, dtype=STRING)
    )
    return pd.DataFrame(
        {
            "row": pos,
            "column": "+".join(c.spec.key),
            "reason": "duplicate_exact",
            "message": [
                f"exact repeat of line {firsts[p]}{where[p]}; skipped, counted once" for p in pos
            ],
            "value": key_text.iloc[pos].to_numpy(),
        }
    )


def _records(text: pd.DataFrame, rows: np.ndarray, raws: dict[str, RawTable]) -> np.ndarray:
    """The raw row behind each reject as JSON text (from the source as read, before mapping)."""
    out = np.empty(len(rows), dtype=object)
    sources = text[SOURCE_COL].astype(str).to_numpy()[rows]
    lines = text[LINE_COL].to_numpy()[rows]
    for s in pd.unique(sources):
        sel = np.flatnonzero(sources == s)
        raw = raws.get(s)
        if raw is not None and len(raw.frame):
            raw_lines = raw.frame[LINE_COL].to_numpy()
            idx = np.searchsorted(raw_lines, lines[sel])
            idx = np.clip(idx, 0, len(raw_lines) - 1)
            found = raw_lines[idx] == lines[sel]
            data = raw.frame.drop(columns=[SOURCE_COL, LINE_COL])
            if found.any():
                out[sel[found]] = _json_lines(data.iloc[idx[found]])
            rest = sel[~found]
        else:
            rest = sel
        if len(rest):
            data = text.drop(columns=[SOURCE_COL, LINE_COL]).iloc[rows[rest]]
            out[rest] = _json_lines(data)
    return out


def _json_lines(frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return []
    text = text_frame(frame.reset_index(drop=True)).to_json(
        orient="records", lines=True, force_ascii=False
    )
    return [line.replace("\\/", "/") for line in text.rstrip("\n").split("\n")]

"""Downloads of tables as ``data:`` links built in the kernel (CSV and Excel, base64).

They work under Voila without the server serving any file. Text cells that a
spreadsheet would run as a formula get a leading apostrophe.
"""

from __future__ import annotations

import base64
import io
import logging
import re

import ipywidgets as w
import pandas as pd

__all__ = ["DownloadLinks", "csv_bytes", "excel_bytes"]

log = logging.getLogger("rpmkit.ui")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula get a leading apostrophe."""
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c].dtype):
            out[c] = (
                out[c]
                .astype(object)
                .map(
                    lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v
                )
            )
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a byte-order mark (Excel reads accents right), formula-safe."""
    return _spreadsheet_safe(frame).to_csv(index=False).encode("utf-8-sig")


def excel_bytes(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    """An .xlsx workbook of ``frame`` (one sheet), formula-safe."""
    buffer = io.BytesIO()
    safe = _spreadsheet_safe(frame)
    for c in safe.columns:
        if pd.api.types.is_string_dtype(safe[c].dtype):
            safe[c] = safe[c].astype(object)
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        safe.to_excel(writer, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()


def _size(n: int) -> str:
    return f"{n / 1024:,.0f} KB" if n >= 1024 else f"{n} B"


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class DownloadLinks(w.HBox):
    """CSV and Excel downloads of a table, as ``data:`` links built in the kernel.

    ``set_frame(frame, name)`` makes the CSV link at once (cheap); the Excel
    workbook is built when the "Excel" button is pressed, because writing .xlsx
    costs far more than the table's redraw. The frame is downloaded as given
    (raw numbers, not the formatted text shown on screen).
    """

    MAX_EXCEL_ROWS = 1_000_000

    def __init__(self) -> None:
        self._csv = w.HTML("")
        self._excel_button = w.Button(
            description="⬇ Excel",
            tooltip="Build an Excel workbook of this table",
            layout=w.Layout(width="82px", height="24px", display="none"),
        )
        self._excel = w.HTML("")
        self._excel_button.on_click(self._build_excel)
        super().__init__(
            [self._csv, self._excel_button, self._excel],
            layout=w.Layout(align_items="center"),
        )
        self.add_class("rpm-downloads")
        self.frame: pd.DataFrame | None = None
        self.slug = "table"

    def set_frame(self, frame: pd.DataFrame | None, name: str) -> None:
        self.frame = frame
        self._excel.value = ""
        if frame is None or frame.empty:
            self._csv.value = ""
            self._excel_button.layout.display = "none"
            return
        self.slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "table"
        data = csv_bytes(frame)
        self._csv.value = (
            f'<a download="{self.slug}.csv" href="data:text/csv;charset=utf-8;base64,'
            f'{base64.b64encode(data).decode()}">⬇ CSV ({_size(len(data))})</a>'
        )
        too_big = len(frame) > self.MAX_EXCEL_ROWS
        self._excel_button.layout.display = "none" if too_big else ""

    def _build_excel(self, _button=None) -> None:
        if self.frame is None:
            return
        try:
            xlsx = excel_bytes(self.frame, self.slug)
        except Exception:
            log.exception("DownloadLinks: building the Excel workbook failed")
            self._excel.value = '<span class="rpm-bad">The workbook could not be built.</span>'
            return
        self._excel_button.layout.display = "none"
        self._excel.value = (
            f'<a download="{self.slug}.xlsx" href="data:{_XLSX};base64,'
            f'{base64.b64encode(xlsx).decode()}">⬇ Excel ({_size(len(xlsx))})</a>'
        )

    def click_excel(self) -> None:
        """Press the Excel button (for tests)."""
        self._excel_button.click()

    @property
    def csv_html(self) -> str:
        return self._csv.value

    @property
    def excel_html(self) -> str:
        return self._excel.value

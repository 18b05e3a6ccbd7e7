"""The data-quality app: did every row load, what was rejected and why, what the data covers."""

from __future__ import annotations

import html
import logging
from pathlib import Path, PurePath

import ipywidgets as w
import numpy as np
import pandas as pd

from rpmkit import money, plots
from rpmkit.io import LoadResult
from rpmkit.schema import REASONS, TABLE_ORDER
from rpmkit.ui.charts import ChartSlot
from rpmkit.ui.loading import load_friendly, preset_names
from rpmkit.ui.widgets import MethodNote, Notice, TableView, style_widget

__all__ = ["DataQualityApp", "control_totals_frame", "coverage_frame", "reasons_frame"]

log = logging.getLogger("rpmkit.ui")

AUTO = "auto-detect"


def all_reasons() -> dict[str, str]:
    """Every reject reason code with its one-line meaning (loader's and presets')."""
    from rpmkit.presets import REASONS as preset_reasons

    return {**preset_reasons, **REASONS}


def _reason_text(code: str) -> str:
    return all_reasons().get(code, "")


def _rows(n: int) -> str:
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


def _units(minor, currency) -> float:
    if minor is None or pd.isna(minor) or not money.is_known_currency(currency):
        return np.nan
    return int(minor) / 10 ** money.exponent(currency)


def control_totals_frame(result: LoadResult) -> pd.DataFrame:
    """Input = loaded + rejected + skipped, per table and currency, amounts in currency units."""
    rows = []
    for t in result.manifest.totals:
        cur = t.get("currency")
        rows.append(
            {
                "table": t.get("table"),
                "currency": cur if isinstance(cur, str) else "",
                "input_rows": t.get("input_rows", 0),
                "loaded_rows": t.get("loaded_rows", 0),
                "rejected_rows": t.get("rejected_rows", 0),
                "skipped_rows": t.get("skipped_rows", 0),
                "input_amount": _units(t.get("input_amount"), cur),
                "loaded_amount": _units(t.get("loaded_amount"), cur),
                "rejected_amount": _units(t.get("rejected_amount"), cur),
                "skipped_amount": _units(t.get("skipped_amount"), cur),
                "unreadable_amounts": t.get("input_unparsed", 0),
                "balanced": "yes" if t.get("balanced", True) else "NO",
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    order = {name: i for i, name in enumerate(TABLE_ORDER)}
    frame["_o"] = frame["table"].map(order).fillna(99)
    return (
        frame.sort_values(["_o", "currency"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def reasons_frame(rejects: pd.DataFrame) -> pd.DataFrame:
    """Rejected rows per reason: ``reason, meaning, rows, tables``, most frequent first."""
    if rejects.empty:
        return pd.DataFrame(columns=["reason", "meaning", "rows", "tables"])
    r = rejects.assign(reason=rejects["reason"].astype(str), table=rejects["table"].astype(str))
    grouped = r.groupby("reason", observed=True)
    frame = pd.DataFrame(
        {
            "rows": grouped.size(),
            "tables": grouped["table"].agg(lambda s: ", ".join(sorted(set(s)))),
        }
    ).reset_index()
    frame.insert(1, "meaning", frame["reason"].map(_reason_text))
    frame = frame.sort_values(["rows", "reason"], ascending=[False, True], kind="stable")
    return frame.reset_index(drop=True)


def _file_name(value) -> str:
    # Rejects name their source file; the server's folders are nobody's business.
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = str(value)
    return PurePath(text).name if ("/" in text or "\\" in text) else text


def rejects_for_download(rejects: pd.DataFrame) -> pd.DataFrame:
    """The rejects with file names instead of server paths."""
    out = rejects.copy()
    if "source" in out.columns:
        out["source"] = out["source"].astype(object).map(_file_name)
    return out


def coverage_frame(result: LoadResult) -> pd.DataFrame:
    """Rows and date range per loaded table."""
    summary = result.ledger.summary().reset_index()
    summary = summary[summary["rows"] > 0]
    return summary.rename(columns={"first_date": "first", "last_date": "last"}).reset_index(
        drop=True
    )


def customer_coverage(result: LoadResult) -> pd.DataFrame:
    """How invoices and the customer master cover each other."""
    ledger = result.ledger
    master = set(ledger.customers["customer_id"].dropna().astype(str))
    invoiced = ledger.invoices["customer_id"].dropna().astype(str)
    with_invoices = set(invoiced)
    counts = invoiced.value_counts()
    top10 = counts.head(10).sum() / counts.sum() * 100 if counts.sum() else np.nan
    unknown = 0
    if "reason" in result.rejects.columns:
        unknown = int((result.rejects["reason"] == "unknown_customer").sum())
    rows = [
        ("customers in the master", f"{len(master):,}"),
        ("customers with invoices", f"{len(with_invoices):,}"),
        ("customers without any invoice", f"{len(master - with_invoices):,}"),
        ("invoices rejected for an unknown customer", f"{unknown:,}"),
        ("share of invoices from the 10 largest customers", f"{top10:.1f} %"),
    ]
    return pd.DataFrame(rows, columns=["measure", "value"])


class DataQualityApp(w.VBox):
    """Load a ledger and see its control totals, rejects by reason and coverage.

    Parameters
    ----------
    source
        A ledger folder, file, workbook, DuckDB file or SQL URL; blank or ``None``
        loads the sample ledger. Given here (a notebook parameter) it is trusted;
        a source typed into the app's field must lie under the app's data folders
        (see :mod:`rpmkit.ui.loading`).
    preset
        Preset name, ``None`` to detect.
    """

    def __init__(self, source=None, preset=None) -> None:
        self._style = style_widget()
        self._source = w.Text(
            value="" if source is None else str(source),
            placeholder="blank: the sample ledger",
            description="Source",
            layout=w.Layout(width="420px"),
            style={"description_width": "56px"},
        )
        names = preset_names()
        self._preset = w.Dropdown(
            options=[AUTO, *names],
            value=preset if preset in names else AUTO,
            description="Preset",
            layout=w.Layout(width="230px"),
            style={"description_width": "52px"},
        )
        self._load = w.Button(description="Load", button_style="primary", layout={"width": "100px"})
        self._notice = Notice()
        self._summary = w.HTML("")
        self._totals = TableView(
            "Control totals: input = loaded + rejected + skipped",
            kinds={
                "input_rows": "int",
                "loaded_rows": "int",
                "rejected_rows": "int",
                "skipped_rows": "int",
                "input_amount": "money",
                "loaded_amount": "money",
                "rejected_amount": "money",
                "skipped_amount": "money",
                "unreadable_amounts": "int",
            },
            currency_column="currency",
            labels={
                "input_rows": "input rows",
                "loaded_rows": "loaded",
                "rejected_rows": "rejected",
                "skipped_rows": "skipped",
                "input_amount": "input amount",
                "loaded_amount": "loaded amount",
                "rejected_amount": "rejected amount",
                "skipped_amount": "skipped amount",
                "unreadable_amounts": "unreadable amounts",
            },
            empty="No tables were read.",
            max_height="232px",
        )
        self._totals_note = MethodNote()
        self._totals_note.set(
            "Every input row is loaded, rejected (with every reason it fails) or skipped as an "
            "exact duplicate. For each table and currency the rows and the amounts must add up: "
            "input = loaded + rejected + skipped. Rows whose amount could not be read are "
            "counted under “unreadable amounts”. Amounts in each row's own currency."
        )
        # One FigureWidget for both charts: the page loads plotly's widget code once.
        self._charts = ChartSlot("data-quality")
        self._reasons = TableView(
            "Rejected rows by reason",
            kinds={"rows": "int"},
            empty="No rows were rejected.",
        )
        self._all_rejects = TableView("Rejected rows", max_rows=10, empty="No rows were rejected.")
        self._dates = TableView(
            "Date coverage per table",
            kinds={"rows": "int", "first": "date", "last": "date"},
        )
        self._customers = TableView("Customer coverage")
        self._load.on_click(self._on_load)

        controls = w.HBox(
            [self._source, self._preset, self._load],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )
        half = {"width": "50%", "min_width": "420px", "padding": "0 6px 0 0"}
        self._body = w.VBox(
            [
                self._summary,
                self._charts,
                self._totals,
                self._totals_note,
                w.HBox(
                    [
                        w.VBox([self._reasons], layout=w.Layout(**half)),
                        w.VBox([self._dates, self._customers], layout=w.Layout(**half)),
                    ],
                    layout=w.Layout(flex_flow="row wrap", width="100%"),
                ),
                self._all_rejects,
            ],
            layout=w.Layout(width="100%"),
        )
        super().__init__(
            [self._style, controls, self._notice, self._body], layout=w.Layout(width="100%")
        )
        self.add_class("rpm-app")
        self.result: LoadResult | None = None
        self._trusted_source = source
        self._run(source, preset or None, typed=False)

    # ------------------------------------------------------------ callbacks
    def _on_load(self, _button=None) -> None:
        text = self._source.value.strip()
        preset = None if self._preset.value == AUTO else self._preset.value
        typed = bool(text) and text != str(self._trusted_source or "")
        self._run(text or None, preset, typed=typed)

    def click_load(self) -> None:
        """Press the Load button (for tests and scripts)."""
        self._load.click()

    def _run(self, source, preset, *, typed: bool) -> None:
        self._load.disabled = True
        self._notice.show("Loading…", "info")
        try:
            extra = ()
            if self._trusted_source and not str(self._trusted_source).count("://"):
                extra = (Path(self._trusted_source).expanduser().resolve().parent,)
            result, message = load_friendly(source, preset, typed=typed, extra_roots=extra)
            if result is None:
                self._notice.show(message, "error")
                return
            self.result = result
            self._show(result, "the sample ledger" if not source else "the source")
        except Exception:
            log.exception("DataQualityApp: showing the load result failed")
            self._notice.show(
                "The ledger loaded, but its report could not be shown. "
                "The server log has the details.",
                "error",
            )
        finally:
            self._load.disabled = False

    # ------------------------------------------------------------- display
    def _show(self, result: LoadResult, label: str) -> None:
        m = result.manifest
        counts = m.counts
        loaded = sum(c.get("loaded", 0) for c in counts.values())
        rejected = sum(c.get("rejected", 0) for c in counts.values())
        skipped = sum(c.get("skipped", 0) for c in counts.values())
        reconciled = "reconcile" if m.reconciled else "DO NOT reconcile"
        kind = "ok" if m.reconciled and rejected == 0 else ("error" if not m.reconciled else "info")
        self._notice.show(
            f"Loaded {label}: {_rows(loaded)}, {rejected:,} rejected, {skipped:,} skipped as exact "
            f"duplicates. The control totals {reconciled}.",
            kind,
        )
        preset = f" · preset {html.escape(m.preset)}" if m.preset else ""
        self._summary.value = (
            f'<div class="rpm-sub">Read as {html.escape(str(m.kind))}{preset} · reporting '
            f"currency {html.escape(m.reporting_currency)} "
            f"({html.escape(str(m.reporting_currency_from))})</div>"
        )
        totals = control_totals_frame(result)
        self._totals.show(totals, "control-totals")

        rejects = result.rejects
        reasons = reasons_frame(rejects)
        self._reasons.show(reasons, "rejects-by-reason")
        shown = rejects_for_download(rejects)
        cols = [c for c in ("table", "source", "line", "column", "reason", "value") if c in shown]
        self._all_rejects.show(
            shown[cols],
            "rejected-rows",
            download=shown,
            title=f"Rejected rows ({len(rejects):,}; the download has every column)"
            if len(rejects)
            else "Rejected rows",
        )

        self._charts.show(
            plots.side_by_side(
                plots.rejects_by_reason(rejects, reasons=all_reasons()),
                plots.coverage_bars(result.ledger.invoices["invoice_date"]),
            )
        )
        self._dates.show(coverage_frame(result), "date-coverage")
        self._customers.show(customer_coverage(result), "customer-coverage")

    # ---------------------------------------------------------- for tests
    @property
    def notice(self) -> Notice:
        return self._notice

    @property
    def figure(self):
        """The ``FigureWidget`` of both charts (``None`` before a load).

        Rejects by reason are on axes ``x``/``y``, invoices per month on ``x2``/``y2``.
        """
        return self._charts.figure

    def __repr__(self) -> str:
        state = "loaded" if self.result is not None else "nothing loaded"
        return f"DataQualityApp({state})"

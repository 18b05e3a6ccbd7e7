"""The receivables KPI pack: one as-of date as a standalone HTML page or an Excel workbook.

:func:`kpi_pack` gathers what the pack shows: the headline KPIs with their
components, the prior period for comparison, the Credit Research Foundation
benchmarks, aging in total and by customer, a 12-month DSO/BPDSO/ADD trend,
the top past-due customers and every formula with the ledger's own numbers
filled in. :func:`write_html` renders a page that works offline (plotly.js is
embedded), :func:`write_xlsx` a workbook whose numbers are numbers, and
:func:`write_report` picks one from the file name. :func:`format_kpis` and
:func:`flatten_kpis` render :func:`rpmkit.kpi.snapshot` for ``rpmkit kpis``.

Examples
--------
>>> import pandas as pd
>>> from rpmkit.ledger import Ledger
>>> ledger = Ledger.from_flat(
...     pd.DataFrame(
...         {
...             "invoice_id": ["A", "B"],
...             "customer_id": ["C1", "C2"],
...             "invoice_date": pd.to_datetime(["2024-05-10", "2024-06-05"]),
...             "due_date": pd.to_datetime(["2024-06-09", "2024-07-05"]),
...             "amount": [400_000, 600_000],
...         }
...     )
... )
>>> pack = kpi_pack(ledger, "2024-06-30")
>>> float(pack.kpis.loc["dso", "value"])  # AR_end 10,000 / S 6,000 × 30 days
50.0
>>> pack.top_past_due["customer_id"].tolist()
['C1']
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rpmkit import kpi, money, plots
from rpmkit._version import __version__
from rpmkit.kpi.benchmarks import CRF_BENCHMARKS, CRF_SOURCE
from rpmkit.kpi.book import book, day_number
from rpmkit.ledger import Ledger, to_date
from rpmkit.plots import BUCKET_COLOURS

__all__ = [
    "BUCKET_COLOURS",
    "KpiPack",
    "flatten_kpis",
    "format_kpis",
    "kpi_pack",
    "to_html",
    "write_html",
    "write_report",
    "write_xlsx",
]

# key, label, unit, which direction is better, path into the snapshot dict
_ROWS: tuple[tuple[str, str, str, str | None, tuple[str, ...]], ...] = (
    ("open_ar", "Open AR", "money", None, ("open_ar",)),
    ("current_ar", "Current AR", "money", None, ("current_ar",)),
    ("past_due_ar", "Past-due AR", "money", "lower", ("past_due_ar",)),
    ("sales", "Credit sales", "money", None, ("sales",)),
    ("receipts", "Receipts", "money", None, ("receipts",)),
    ("dso", "DSO", "days", "lower", ("dso", "standard")),
    ("dso_average", "DSO (average balance)", "days", "lower", ("dso", "average")),
    ("dso_countback", "DSO (countback)", "days", "lower", ("dso", "countback")),
    ("bpdso", "BPDSO", "days", "lower", ("bpdso",)),
    ("add", "ADD", "days", "lower", ("add",)),
    ("cei", "CEI", "percent", "higher", ("cei",)),
    ("pct_current", "% current", "percent", "higher", ("pct_current",)),
    ("pct_over_90", "% 91+ past due", "percent", "lower", ("pct_over_90",)),
)
TILES = ("open_ar", "dso", "bpdso", "add", "cei", "pct_current", "pct_over_90")
"""The KPI rows shown as tiles at the top of the HTML pack."""


# ------------------------------------------------------------------ the pack
@dataclass(frozen=True)
class KpiPack:
    """Everything a KPI pack shows, as plain tables (money in currency units).

    ``kpis`` is indexed by KPI key (``open_ar``, ``dso`` … ``pct_over_90``)
    with ``label, value, unit, prior, change, better, benchmark, method,
    AR_begin, AR_end, AR_cur, S, D, note``; ``aging`` has one row per bucket
    (``bucket, amount, share, invoices``); ``aging_by_customer`` one row per
    customer with open AR; ``trend`` one row per month end
    (``period_end, dso, bpdso, add``); ``top_past_due`` the customers with the
    most past-due AR; ``formulas`` one row per KPI with the formula and the
    same formula with this ledger's figures.
    """

    as_of: pd.Timestamp
    period: str
    period_start: pd.Timestamp
    prior_as_of: pd.Timestamp
    currency: str
    snapshot: dict[str, Any]
    prior: dict[str, Any]
    kpis: pd.DataFrame
    aging: pd.DataFrame
    aging_by_customer: pd.DataFrame
    trend: pd.DataFrame
    top_past_due: pd.DataFrame
    formulas: pd.DataFrame
    source_label: str = ""

    @property
    def decimals(self) -> int:
        return money.exponent(self.currency)


def _get(snap: dict, path: tuple[str, ...]):
    value: Any = snap
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _kpi_values(ledger: Ledger, as_of, period) -> dict[str, kpi.KpiValue]:
    return {
        "dso": kpi.dso(ledger, as_of, period, method="standard"),
        "dso_average": kpi.dso(ledger, as_of, period, method="average"),
        "dso_countback": kpi.dso(ledger, as_of, period, method="countback"),
        "bpdso": kpi.bpdso(ledger, as_of, period),
        "add": kpi.add(ledger, as_of, period),
        "cei": kpi.cei(ledger, as_of, period),
        "pct_current": kpi.pct_current(ledger, as_of),
        "pct_over_90": kpi.pct_over_90(ledger, as_of),
    }


def _kpi_table(snap, prior, values: dict[str, kpi.KpiValue]) -> pd.DataFrame:
    rows = []
    for key, label, unit, better, path in _ROWS:
        value, before = _get(snap, path), _get(prior, path)
        comp = values[key].components if key in values else {}
        rows.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "unit": unit,
                "prior": before,
                "change": None if value is None or before is None else round(value - before, 4),
                "better": better,
                "benchmark": CRF_BENCHMARKS[key].value if key in CRF_BENCHMARKS else None,
                "method": values[key].method if key in values else "",
                **{c: comp.get(c) for c in ("AR_begin", "AR_end", "AR_cur", "S", "D")},
                "note": values[key].note if key in values else "",
            }
        )
    return pd.DataFrame(rows).set_index("key")


def _trend(ledger: Ledger, as_of: pd.Timestamp, period, months: int) -> pd.DataFrame:
    """DSO, BPDSO and ADD over ``period`` windows ending at the last ``months`` month ends.

    When ``as_of`` is not a month end it is the last point, after ``months − 1`` month ends.
    """
    columns = ["period_end", "dso", "bpdso", "add"]
    first = ledger.invoices["invoice_date"].min()
    if pd.isna(first) or first > as_of:
        return pd.DataFrame(columns=columns)
    start = max(first, as_of + pd.Timedelta(days=1) - pd.DateOffset(months=months))
    parts = {
        name: kpi.kpi_series(ledger, name, start, as_of, freq="month", period=period)
        .set_index("period_end")["value"]
        .rename(name)
        for name in columns[1:]
    }
    frame = pd.concat(parts.values(), axis=1).reset_index()
    if not as_of.is_month_end:
        d, bp = kpi.dso(ledger, as_of, period).value, kpi.bpdso(ledger, as_of, period).value
        add = None if d is None or bp is None else d - bp
        point = pd.DataFrame([{"period_end": as_of, "dso": d, "bpdso": bp, "add": add}])
        frame = pd.concat([frame.tail(months - 1), point], ignore_index=True)
    frame = frame[columns].astype({c: "float64" for c in columns[1:]})
    return frame.reset_index(drop=True)


def _customer_names(ledger: Ledger) -> pd.Series:
    cust = ledger.customers
    if "name" not in cust.columns:
        return pd.Series(dtype="string")
    return cust.drop_duplicates("customer_id").set_index("customer_id")["name"].astype("string")


def _oldest_past_due(ledger: Ledger, as_of: pd.Timestamp) -> pd.Series:
    """Per customer with open AR, the most days past due of an open invoice."""
    b = book(ledger)
    day = int(day_number(pd.Series([as_of]))[0])
    sel = b.open_at(day) > 0
    oldest = pd.Series(day - b.due_day[sel]).groupby(b.customer[sel]).max()
    return pd.Series(oldest.to_numpy(), index=b.customers[oldest.index].astype("string"))


def _by_customer(ledger: Ledger, as_of: pd.Timestamp) -> tuple[pd.DataFrame, pd.Series]:
    """Aging by customer and the open invoices per bucket over all customers.

    One row per customer with open AR: bucket amounts (currency units), ``total``,
    ``past_due``, ``invoices`` and ``max_days_past_due``, largest total first.
    """
    ag = kpi.aging(ledger, as_of, by="customer")
    scale = 10 ** money.exponent(ag.currency)
    frame = ag.amounts.astype("float64") / scale
    frame["past_due"] = frame["total"] - frame[ag.labels[0]]
    frame["invoices"] = ag.counts.sum(axis=1).astype("int64")
    frame = frame.reset_index().rename(columns={frame.index.name: "customer_id"})
    frame["customer_id"] = frame["customer_id"].astype("string")
    frame.insert(1, "name", frame["customer_id"].map(_customer_names(ledger)))
    frame["max_days_past_due"] = (
        frame["customer_id"].map(_oldest_past_due(ledger, as_of)).astype("Int64")
    )
    frame = frame.sort_values(["total", "customer_id"], ascending=[False, True], kind="stable")
    return frame.reset_index(drop=True), ag.counts.sum(axis=0)


def _aging_table(snap: dict, counts: pd.Series) -> pd.DataFrame:
    total = snap["open_ar"]
    return pd.DataFrame(
        {
            "bucket": list(snap["aging"]),
            "amount": list(snap["aging"].values()),
            "share": [None if total <= 0 else a / total * 100 for a in snap["aging"].values()],
            "invoices": [int(counts.get(b, 0)) for b in snap["aging"]],
        }
    )


def kpi_pack(
    ledger: Ledger,
    as_of,
    period: str = "month",
    *,
    trend_months: int = 12,
    top: int = 20,
    source_label: str = "",
) -> KpiPack:
    """Gather the KPI pack of ``ledger`` at ``as_of`` over the period ending then.

    The prior period is the one of the same length ending the day before this
    one starts; the trend evaluates the same period window at each of the last
    ``trend_months`` month steps; ``top`` customers are ranked by past-due AR.
    """
    t = to_date(as_of)
    bounds = kpi.period_bounds(t, period)
    prior_as_of = bounds.start - pd.Timedelta(days=1)
    snap = kpi.snapshot(ledger, t, period)
    prior = kpi.snapshot(ledger, prior_as_of, period)
    values = _kpi_values(ledger, t, period)
    by_customer, bucket_counts = _by_customer(ledger, t)
    past_due = by_customer[by_customer["past_due"] > 0]
    top_past_due = past_due.sort_values(
        ["past_due", "customer_id"], ascending=[False, True], kind="stable"
    ).head(top)
    return KpiPack(
        as_of=t,
        period=period,
        period_start=bounds.start,
        prior_as_of=prior_as_of,
        currency=ledger.reporting_currency,
        snapshot=snap,
        prior=prior,
        kpis=_kpi_table(snap, prior, values),
        aging=_aging_table(snap, bucket_counts),
        aging_by_customer=by_customer,
        trend=_trend(ledger, t, period, trend_months),
        top_past_due=top_past_due.reset_index(drop=True),
        formulas=_formulas(values, ledger.reporting_currency),
        source_label=source_label,
    )


# --------------------------------------------------------------- formatting
def _fmt_money(value, decimals: int, currency: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    text = f"{value:,.{decimals}f}"
    return f"{currency} {text}" if currency else text


def _fmt(value, unit: str, decimals: int = 2, currency: str = "", signed: bool = False) -> str:
    """A KPI value as text: money with thousands separators, days, percent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "+" if signed else ""
    if unit == "money":
        text = f"{value:{sign},.{decimals}f}"
        return f"{text} {currency}".strip()
    suffix = {"days": " days", "percent": " %", "points": " pts"}.get(unit, "")
    return f"{value:{sign},.{decimals}f}{suffix}"


def _filled(key: str, v: kpi.KpiValue, decimals: int) -> str:
    """The KPI's formula evaluated with this ledger's figures: ``8,800.00 / … = 37.71 days``."""
    if v.value is None:
        return f"undefined: {v.note}" if v.note else "undefined for this data"
    c = v.components

    def m(name: str) -> str:
        return _fmt_money(c.get(name), decimals)

    result = f"= {v.value:,.2f} {'%' if v.unit == 'percent' else 'days'}"
    if key in ("dso", "bpdso"):
        return f"{m('AR_end' if key == 'dso' else 'AR_cur')} / {m('S')} × {c['D']} {result}"
    if key == "dso_average":
        return f"(({m('AR_begin')} + {m('AR_end')}) / 2) / {m('S')} × {c['D']} {result}"
    if key == "dso_countback":
        remaining = round(float(c["AR_end"]), decimals)
        terms = []
        for month in c.get("months", []):
            sales = round(float(month["S"]), decimals)
            if sales >= remaining and sales > 0:
                terms.append(
                    f"{_fmt_money(remaining, decimals)} / {_fmt_money(sales, decimals)}"
                    f" × {month['days']}"
                )
                break
            terms.append(str(month["days"]))
            remaining = round(remaining - sales, decimals)
        return f"{' + '.join(terms) or '0'} {result}"
    if key == "add":
        return f"{c['DSO']:,.2f} − {c['BPDSO']:,.2f} {result}"
    if key == "cei":
        return (
            f"({m('AR_begin')} + {m('S')} − {m('AR_end')}) / "
            f"({m('AR_begin')} + {m('S')} − {m('AR_cur')}) × 100 {result}"
        )
    return f"{m('part')} / {m('AR_end')} × 100 {result}"


def _method_formula(formula: str, method: str) -> str:
    """The part of an :func:`~rpmkit.kpi.explain` formula for one method (``standard: …``)."""
    label = "aggregate" if method == "standard" and formula.startswith("aggregate:") else method
    for part in formula.split("; "):
        name, sep, rest = part.partition(": ")
        if sep and name == label:
            return rest
    return formula


_FORMULA_TITLES = {
    "dso": "DSO (standard)",
    "dso_average": "DSO (average balance)",
    "dso_countback": "DSO (countback)",
    "bpdso": "Best possible DSO",
    "add": "Average days delinquent",
    "cei": "Collection effectiveness index",
    "pct_current": "Percent current",
    "pct_over_90": "Percent over 90 days past due",
}


def _formulas(values: dict[str, kpi.KpiValue], currency: str) -> pd.DataFrame:
    decimals = money.exponent(currency)
    rows = []
    for key, v in values.items():
        f = kpi.explain(v.name)
        rows.append(
            {
                "key": key,
                "title": _FORMULA_TITLES[key],
                "formula": _method_formula(f.formula, v.method),
                "with_figures": _filled(key, v, decimals),
                "value": v.value,
                "unit": v.unit,
                "definition": f.definition,
                "source": f.source,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------- rpmkit kpis
def flatten_kpis(snap: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``(key, value)`` pairs with nested keys joined by dots (``aging.1-30``, ``dso.standard``).

    >>> flatten_kpis({"open_ar": 1.5, "dso": {"standard": 30.0}})
    [('open_ar', 1.5), ('dso.standard', 30.0)]
    """
    out: list[tuple[str, Any]] = []
    for key, value in snap.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(flatten_kpis(value, name + "."))
        else:
            out.append((name, value))
    return out


def format_kpis(snap: dict[str, Any]) -> str:
    """A readable, aligned report of :func:`rpmkit.kpi.snapshot` (what ``rpmkit kpis`` prints)."""
    cur = snap["currency"]
    dec = money.exponent(cur)
    open_ar = snap["open_ar"]

    def share(amount) -> str:
        return "" if not open_ar or open_ar <= 0 else f"{amount / open_ar * 100:6.1f} %"

    def money_line(label: str, amount, extra: str = "") -> str:
        return f"  {label:<26}{_fmt_money(amount, dec):>20}  {extra}".rstrip()

    def kpi_line(label: str, value, unit: str) -> str:
        shown = "n/a" if value is None else f"{value:,.2f}"
        return f"  {label:<26}{shown:>20}  {'%' if unit == 'percent' else unit}"

    lines = [
        f"Receivables KPIs as of {snap['as_of']} ({cur})",
        f"Period {snap['period_start']} to {snap['period_end']} ({snap['period_days']} days)",
        "",
        f"Balances ({cur})",
        money_line("Open AR", open_ar),
        money_line("Current", snap["current_ar"], share(snap["current_ar"])),
        money_line("Past due", snap["past_due_ar"], share(snap["past_due_ar"])),
        f"  {'Open invoices':<26}{snap['open_invoices']:>20,}",
    ]
    if snap.get("unapplied_cash"):
        lines.append(money_line("Unapplied cash", snap["unapplied_cash"], "(not in aging)"))
    lines += ["", f"Aging by days past due ({cur})"]
    lines += [money_line(bucket, amount, share(amount)) for bucket, amount in snap["aging"].items()]
    lines += [
        "",
        f"Period activity ({cur})",
        money_line("AR at start of period", snap.get("ar_begin")),
        money_line("Credit sales", snap["sales"]),
        money_line("Receipts", snap["receipts"]),
        "",
        "Collection KPIs",
    ]
    names = {"three_month": "three-month"}
    for method, value in snap["dso"].items():
        lines.append(kpi_line(f"DSO, {names.get(method, method)}", value, "days"))
    lines += [
        kpi_line("BPDSO", snap["bpdso"], "days"),
        kpi_line("ADD", snap["add"], "days"),
        kpi_line("CEI", snap["cei"], "percent"),
        kpi_line("% current", snap.get("pct_current"), "percent"),
        kpi_line("% over 90 days past due", snap.get("pct_over_90"), "percent"),
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ charts
def aging_figure(pack: KpiPack):
    """Open AR by aging bucket in the shared bucket colours (:data:`BUCKET_COLOURS`)."""
    a = pack.aging.set_index("bucket")
    return plots.aging_bars(
        a[["amount"]].T.rename(index={"amount": "total"}),
        pack.currency,
        counts=a[["invoices"]].T.rename(index={"invoices": "total"}),
        title=f"Open AR by days past due ({pack.currency})",
        height=360,
    )


def trend_figure(pack: KpiPack):
    """DSO, BPDSO and ADD at each month step, with the CRF medians dotted."""
    tidy = pack.trend.melt(id_vars="period_end", var_name="kpi", value_name="value")
    bench = pack.kpis["benchmark"]
    fig = plots.kpi_trend(
        tidy.rename(columns={"period_end": "date"}),
        benchmarks={k: float(bench[k]) for k in ("dso", "bpdso", "add") if pd.notna(bench[k])},
        title=f"DSO, BPDSO, ADD ({pack.period} windows)",
        height=360,
    )
    # label exactly the dates measured, in ISO form (year-month when all are month ends)
    ends = pd.DatetimeIndex(pack.trend["period_end"])
    month_ends = bool(len(ends)) and bool(ends.is_month_end.all())
    fmt = "%Y-%m" if month_ends else "%Y-%m-%d"
    fig.update_xaxes(tickmode="array", tickvals=list(ends), ticktext=list(ends.strftime(fmt)))
    return fig


def _offline_plotly(div: str) -> str:
    """Disarm the two CDN URL templates inside the plotly.js bundle.

    plotly.js only fetches them for geo maps (topojson) and map icons, which
    the pack never draws; turning them into an unfetchable scheme guarantees
    the page never calls a CDN.
    """
    return div.replace("https://cdn.", "offline-unavailable://cdn.")


# -------------------------------------------------------------------- HTML
def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;
color:#1d2733;background:#f4f6f9;font-size:14px}
main{max-width:1300px;margin:0 auto;padding:16px 24px 40px}
header h1{font-size:1.5rem;margin:0 0 4px}
header p{margin:0;color:#52606d}
h2{font-size:1.15rem;margin:28px 0 10px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:12px;
margin-top:16px}
.tile{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 3px #0002}
.tile .label{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:#52606d}
.tile .value{font-size:1.55rem;font-weight:600;margin:4px 0;white-space:nowrap}
.tile .unit{font-size:.85rem;font-weight:400;color:#52606d}
.tile .delta,.tile .bench{font-size:.8rem;color:#52606d}
.good{color:#1b7a34!important}.bad{color:#b3261e!important}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.card{background:#fff;border-radius:8px;padding:8px;box-shadow:0 1px 3px #0002}
@media (max-width:1000px){.charts{grid-template-columns:1fr}}
table.data{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 3px #0002}
table.data th,table.data td{padding:5px 8px;border-bottom:1px solid #e4e7eb;text-align:left}
table.data th{background:#eef1f5;font-weight:600;font-size:.85rem}
table.data td.n,table.data th.n{text-align:right;font-variant-numeric:tabular-nums}
table.data tr:nth-child(even) td{background:#fafbfc}
.formulas{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.formula{background:#fff;border-radius:8px;padding:10px 14px;box-shadow:0 1px 3px #0002}
.formula h3{font-size:1rem;margin:0 0 4px}
.formula code{display:block;background:#f4f6f9;padding:4px 6px;margin:4px 0;
white-space:pre-wrap;font-size:.85rem}
.formula p{margin:4px 0;color:#52606d;font-size:.85rem}
footer{margin-top:28px;color:#52606d;font-size:.8rem}
"""


def _compact(value, signed: bool = False) -> str:
    """Money short enough for a tile: ``8,800``, ``982.6k``, ``19.89M`` (exact in the tables).

    >>> _compact(19_894_836.91), _compact(-982_554.0, signed=True), _compact(8_800.0)
    ('19.89M', '-982.6k', '8,800')
    """
    if value is None or pd.isna(value):
        return "n/a"
    sign = "+" if signed else ""
    for threshold, size, suffix, digits in (
        (1e9, 1e9, "B", 2),
        (1e6, 1e6, "M", 2),
        (1e5, 1e3, "k", 1),
    ):
        if abs(value) >= threshold:
            return f"{value / size:{sign},.{digits}f}{suffix}"
    return f"{value:{sign},.0f}"


def _tile(pack: KpiPack, key: str) -> str:
    row = pack.kpis.loc[key]
    unit = row["unit"]
    if unit == "money":
        shown = _compact(row["value"])
        value = f'{_e(shown)} <span class="unit">{_e(pack.currency)}</span>'
        change = f"{_compact(row['change'], signed=True)} {pack.currency}"
    else:
        shown = _fmt(row["value"], "number", 1)
        value = f'{_e(shown)} <span class="unit">{"days" if unit == "days" else "%"}</span>'
        change = _fmt(row["change"], "days" if unit == "days" else "points", 1, signed=True)
    css, arrow = "", ""
    if row["change"] is not None and not pd.isna(row["change"]) and row["change"] != 0:
        arrow = "▲ " if row["change"] > 0 else "▼ "
        if row["better"]:
            improved = (row["change"] < 0) == (row["better"] == "lower")
            css = " good" if improved else " bad"
    delta = f"{arrow}{change} vs prior"
    if row["change"] is None or pd.isna(row["change"]):
        delta = "no prior value"
    bench = row["benchmark"]
    if bench is None or pd.isna(bench):
        bench_text = "no CRF benchmark"
    else:
        bench_text = f"CRF median: {bench:.2f}{'' if unit == 'days' else ' %'}"
    prior = _fmt(row["prior"], unit, 2, pack.currency)
    exact = _fmt(row["value"], unit, 2, pack.currency)
    title = f"{exact}; prior period ending {pack.prior_as_of.date().isoformat()}: {prior}"
    if row["note"]:
        title += f"; {row['note']}"
    return (
        f'<div class="tile" data-kpi="{_e(key)}" title="{_e(title)}">'
        f'<div class="label">{_e(row["label"])}</div>'
        f'<div class="value">{value}</div>'
        f'<div class="delta{css}">{_e(delta)}</div>'
        f'<div class="bench">{_e(bench_text)}</div></div>'
    )


def _table(frame: pd.DataFrame, columns: list[tuple[str, str, str]], pack: KpiPack) -> str:
    """An HTML table; ``columns`` are ``(column, header, kind)`` with kind money/days/…/text."""
    head = "".join(
        f'<th class="{"" if kind == "text" else "n"}">{_e(header)}</th>'
        for _, header, kind in columns
    )
    body = []
    for _, row in frame.iterrows():
        cells = []
        for col, _, kind in columns:
            v = row[col]
            if kind == "text":
                cells.append(f"<td>{_e('' if pd.isna(v) else v)}</td>")
                continue
            if pd.isna(v):
                text = ""
            elif kind == "money":
                text = _fmt_money(float(v), pack.decimals)
            elif kind == "count":
                text = f"{int(v):,}"
            elif kind == "date":
                text = pd.Timestamp(v).date().isoformat()
            else:
                text = f"{float(v):,.1f}"
            cells.append(f'<td class="n">{_e(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def to_html(pack: KpiPack) -> str:
    """The pack as one self-contained HTML page (plotly.js embedded, no network needed)."""
    cur = pack.currency
    snap = pack.snapshot
    aging_div = _offline_plotly(
        aging_figure(pack).to_html(
            full_html=False, include_plotlyjs=True, config={"displaylogo": False}
        )
    )
    trend_div = trend_figure(pack).to_html(
        full_html=False, include_plotlyjs=False, config={"displaylogo": False}
    )
    buckets = list(pack.aging["bucket"])
    top_cols = [
        ("customer_id", "Customer", "text"),
        ("name", "Name", "text"),
        ("past_due", f"Past due ({cur})", "money"),
        *[(b, b, "money") for b in buckets[1:]],
        ("total", f"Open AR ({cur})", "money"),
        ("max_days_past_due", "Oldest (days past due)", "count"),
        ("invoices", "Open invoices", "count"),
    ]
    aging_rows = _table(
        pack.aging,
        [
            ("bucket", "Bucket (days past due)", "text"),
            ("amount", f"Open AR ({cur})", "money"),
            ("share", "Share (%)", "number"),
            ("invoices", "Invoices", "count"),
        ],
        pack,
    )
    formulas = "".join(
        f'<div class="formula" data-kpi="{_e(r.key)}"><h3>{_e(r.title)}</h3>'
        f"<p>{_e(r.definition)}</p><code>{_e(r.formula)}</code>"
        f"<code>{'' if pd.isna(r.value) else '= '}{_e(r.with_figures)}</code>"
        f"<p>Source: {_e(r.source)}</p></div>"
        for r in pack.formulas.itertuples()
    )
    period = (
        f"{pack.period_start.date().isoformat()} to {pack.as_of.date().isoformat()} "
        f"({snap['period_days']} days, {pack.period})"
    )
    source = f" · source {_e(pack.source_label)}" if pack.source_label else ""
    top_note = (
        f"Top {len(pack.top_past_due)} of "
        f"{int((pack.aging_by_customer['past_due'] > 0).sum()):,} customers with past-due AR, "
        f"by past-due amount ({cur})."
    )
    top_table = _table(pack.top_past_due, top_cols, pack)
    if pack.top_past_due.empty:
        top_note = f"No customer has past-due AR at the end of {pack.as_of.date().isoformat()}."
        top_table = ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Receivables KPI pack as of {_e(pack.as_of.date().isoformat())}</title>
<style>{_CSS}</style></head>
<body><main>
<header><h1>Receivables KPI pack as of {_e(pack.as_of.date().isoformat())}</h1>
<p>Period {_e(period)} · money in {_e(cur)} · compared with the period ending
{_e(pack.prior_as_of.date().isoformat())}{source}</p></header>
<section class="tiles">{"".join(_tile(pack, k) for k in TILES)}</section>
<h2>Aging and trend</h2>
<section class="charts"><div class="card">{aging_div}</div>
<div class="card">{trend_div}</div></section>
<h2>Aging by days past due</h2>
{aging_rows}
<h2>Top past-due customers</h2>
<p>{_e(top_note)}</p>
{top_table}
<h2>How each figure is computed</h2>
<p>Each formula with this ledger's figures (money in {_e(cur)}). AR_end: open AR at the end
of {_e(pack.as_of.date().isoformat())}; AR_begin: at the end of the day before the period;
AR_cur: the part of AR_end not past due; S: credit sales dated in the period; D: days in the
period.</p>
<section class="formulas">{formulas}</section>
<footer>Benchmarks: {_e(CRF_SOURCE)} (CRF computes DSO on quarterly data). Generated by
rpmkit {_e(__version__)}.</footer>
</main></body></html>
"""


def write_html(pack: KpiPack, path: str | Path) -> Path:
    """Write :func:`to_html` to ``path`` (UTF-8)."""
    path = Path(path)
    path.write_text(to_html(pack), encoding="utf-8")
    return path


# -------------------------------------------------------------------- Excel
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value: str) -> str:
    """Text a spreadsheet would read as a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number_format(kind: str, decimals: int) -> str | None:
    money_fmt = "#,##0" + ("." + "0" * decimals if decimals else "")
    return {
        "money": money_fmt,
        "days": "#,##0.00",
        "percent": "0.00",
        "number": "#,##0.00",
        "count": "#,##0",
        "date": "yyyy-mm-dd",
    }.get(kind)


def _write_sheet(wb, title: str, frame: pd.DataFrame, kinds: dict[str, str], decimals: int):
    """One sheet from ``frame``; ``kinds`` maps column → money/days/percent/count/date/text."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title)
    columns = list(frame.columns)
    ws.append([_safe_text(str(c)) for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for values in frame.itertuples(index=False):
        row = []
        for col, v in zip(columns, values, strict=True):
            kind = kinds.get(col, "text")
            if v is None or (not isinstance(v, str) and pd.isna(v)):
                row.append(None)
            elif kind == "date":
                row.append(pd.Timestamp(v).to_pydatetime().date())
            elif kind == "count":
                row.append(int(v))
            elif kind in ("money", "days", "percent", "number"):
                row.append(float(v))
            else:
                row.append(_safe_text(str(v)))
        ws.append(row)
    last = min(ws.max_row, 200)  # iterating past the data would create empty cells
    for j, col in enumerate(columns, start=1):
        fmt = _number_format(kinds.get(col, "text"), decimals)
        letter = get_column_letter(j)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt
        sample = ws.iter_rows(min_col=j, max_col=j, max_row=last, values_only=True)
        width = max(len(str(v)) if v is not None else 0 for (v,) in sample)
        ws.column_dimensions[letter].width = min(max(width + 2, 10), 60)
    ws.freeze_panes = "A2"
    if frame.shape[0]:
        ws.auto_filter.ref = ws.dimensions
    return ws


def write_xlsx(pack: KpiPack, path: str | Path) -> Path:
    """Write the pack's tables as an Excel workbook, one sheet each.

    Sheets: KPIs (with components), Aging, Aging by customer, Trend, Top past
    due, Formulas, About. Numbers stay numbers with number formats, dates are
    dates, and text a spreadsheet would run as a formula (starting with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe.
    """
    from openpyxl import Workbook

    dec = pack.decimals
    wb = Workbook()
    wb.remove(wb.active)
    money_cols = ("AR_begin", "AR_end", "AR_cur", "S")
    kpis = pack.kpis.reset_index()[
        ["key", "label", "value", "unit", "prior", "change", "benchmark", "method"]
        + [*money_cols, "D", "note"]
    ]
    kpis = kpis.assign(unit=[pack.currency if u == "money" else u for u in kpis["unit"]])
    ws = _write_sheet(
        wb,
        "KPIs",
        kpis,
        {
            **dict.fromkeys(("value", "prior", "change", "benchmark"), "number"),
            **dict.fromkeys(money_cols, "money"),
            "D": "count",
        },
        dec,
    )
    # value, prior and change take the row's own unit: money rows get the money format
    for r, unit in enumerate(pack.kpis["unit"], start=2):
        fmt = _number_format("money" if unit == "money" else "number", dec)
        for col in (3, 5, 6):
            ws.cell(row=r, column=col).number_format = fmt
    _write_sheet(
        wb,
        "Aging",
        pack.aging.rename(columns={"amount": f"amount_{pack.currency}", "share": "share_pct"}),
        {f"amount_{pack.currency}": "money", "share_pct": "percent", "invoices": "count"},
        dec,
    )
    buckets = list(pack.aging["bucket"])
    by_customer = pack.aging_by_customer
    _write_sheet(
        wb,
        "Aging by customer",
        by_customer,
        {
            **dict.fromkeys([*buckets, "total", "past_due"], "money"),
            "invoices": "count",
            "max_days_past_due": "count",
        },
        dec,
    )
    _write_sheet(
        wb,
        "Trend",
        pack.trend,
        {"period_end": "date", "dso": "days", "bpdso": "days", "add": "days"},
        dec,
    )
    _write_sheet(
        wb,
        "Top past due",
        pack.top_past_due,
        {
            **dict.fromkeys([*buckets, "total", "past_due"], "money"),
            "invoices": "count",
            "max_days_past_due": "count",
        },
        dec,
    )
    _write_sheet(
        wb,
        "Formulas",
        pack.formulas[["key", "title", "formula", "with_figures", "value", "unit", "source"]],
        {"value": "number"},
        dec,
    )
    about = pd.DataFrame(
        [
            ("report", "Receivables KPI pack"),
            ("as_of", pack.as_of.date().isoformat()),
            ("period", pack.period),
            ("period_start", pack.period_start.date().isoformat()),
            ("period_end", pack.as_of.date().isoformat()),
            ("prior_period_end", pack.prior_as_of.date().isoformat()),
            ("currency", pack.currency),
            ("benchmarks", CRF_SOURCE),
            ("generated_by", f"rpmkit {__version__}"),
        ],
        columns=["key", "value"],
    )
    _write_sheet(wb, "About", about, {}, dec)
    path = Path(path)
    wb.save(path)
    return path


def write_report(
    ledger: Ledger,
    as_of,
    out: str | Path,
    period: str = "month",
    *,
    source_label: str = "",
) -> Path:
    """Build the KPI pack and write it as HTML (``.html``/``.htm``) or Excel (``.xlsx``)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".xlsx"):
        raise ValueError(f"--out must end in .html or .xlsx, got {out.name!r}")
    pack = kpi_pack(ledger, as_of, period, source_label=source_label)
    return write_xlsx(pack, out) if suffix == ".xlsx" else write_html(pack, out)

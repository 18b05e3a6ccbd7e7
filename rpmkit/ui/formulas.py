"""Each KPI's formula written out with the user's own numbers, for the tiles' formula toggle."""

from __future__ import annotations

import html

from rpmkit import kpi
from rpmkit.ui.format import format_days, format_money

__all__ = ["formula_html"]


def _m(value: float, currency: str) -> str:
    return html.escape(format_money(value, currency, decimals=0))


def formula_html(key: str, values: dict, currency: str) -> str:
    """The formula of ``key`` with the user's numbers, its definition and source.

    ``values`` holds the :class:`~rpmkit.kpi.KpiValue` of each KPI by name, plus
    ``components`` (:class:`~rpmkit.kpi.Components`) and ``open_invoices`` for open AR.
    """
    k = values.get(key)
    if key == "open_ar":
        c = values["components"]
        return (
            "<b>Open AR</b> = Σ open amount of every invoice open at the end of "
            f"{c.period.end.date()} = <b>{_m(c.units(c.ar_end), currency)}</b> "
            f"({values['open_invoices']:,} open invoices).<br>Open = amount − cash applied − "
            "credit notes − write-offs − discounts dated on or before that day; foreign-currency "
            f"invoices converted into {currency} at their invoice-date rate."
        )
    if k is None:
        return ""
    comp = k.components
    shown = "undefined" if k.value is None else f"{k.value:,.2f}"
    unit = " days" if k.unit == "days" else " %"
    if key == "dso":
        body = (
            f"DSO = AR_end / S × D = {_m(comp['AR_end'], currency)} / {_m(comp['S'], currency)}"
            f" × {comp['D']} = <b>{shown}{unit}</b>"
        )
    elif key == "bpdso":
        body = (
            f"BPDSO = AR_cur / S × D = {_m(comp['AR_cur'], currency)} / "
            f"{_m(comp['S'], currency)} × {comp['D']} = <b>{shown}{unit}</b>"
        )
    elif key == "add":
        d, b = comp.get("DSO"), comp.get("BPDSO")
        body = (
            f"ADD = DSO − BPDSO = {format_days(d, 2)} − {format_days(b, 2)} = <b>{shown}{unit}</b>"
        )
    elif key == "cei":
        ab, s, ae, ac = (_m(comp[x], currency) for x in ("AR_begin", "S", "AR_end", "AR_cur"))
        body = (
            "CEI = (AR_begin + S − AR_end) / (AR_begin + S − AR_cur) × 100 = "
            f"({ab} + {s} − {ae}) / ({ab} + {s} − {ac}) × 100 = <b>{shown}{unit}</b>"
        )
    elif key == "pct_current":
        body = (
            f"% current = AR_cur / AR_end × 100 = {_m(comp['part'], currency)} / "
            f"{_m(comp['AR_end'], currency)} × 100 = <b>{shown}{unit}</b>"
        )
    else:
        body = (
            f"% 91+ = AR more than 90 days past due / AR_end × 100 = {_m(comp['part'], currency)}"
            f" / {_m(comp['AR_end'], currency)} × 100 = <b>{shown}{unit}</b>"
        )
    f = kpi.explain(key)
    period = ""
    if "period_start" in comp:
        period = f"Period {comp['period_start']} to {comp['period_end']} (D = {comp['D']} days). "
    note = f" <i>{html.escape(k.note)}</i>" if k.note else ""
    return (
        f"<b>{html.escape(f.title)}</b> ({html.escape(k.method or 'standard')}): {body}.{note}"
        f"<br>{period}{html.escape(f.definition)}<br><span class='rpm-sub'>Source: "
        f"{html.escape(f.source)}</span>"
    )

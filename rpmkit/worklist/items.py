"""Open items at an as-of date, ready to rank: reporting amounts, risk and exclusions.

Examples
--------
>>> import pandas as pd
>>> from rpmkit.ledger import Ledger
>>> disputes = pd.DataFrame(
...     {
...         "dispute_id": ["D1"],
...         "invoice_id": ["I2"],
...         "opened_date": pd.to_datetime(["2024-03-01"]),
...         "amount": [100],
...     }
... )
>>> ledger = Ledger(
...     invoices=pd.DataFrame(
...         {
...             "invoice_id": ["I1", "I2"],
...             "customer_id": ["K", "K"],
...             "invoice_date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
...             "due_date": pd.to_datetime(["2024-01-31", "2024-02-01"]),
...             "amount": [100, 200],
...             "currency": "USD",
...         }
...     ),
...     disputes=disputes,
... )
>>> excluded_invoices(ledger, pd.Timestamp("2024-03-05"))[0].tolist()
['I2']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit import keys, money
from rpmkit.ledger import Ledger

__all__ = ["excluded_invoices", "open_items_at"]


def excluded_invoices(ledger: Ledger, t: pd.Timestamp) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Invoices in open dispute at ``t``, invoices under an open promise, customers under one.

    A dispute is open at ``t`` when opened on or before ``t`` and not resolved
    by ``t``. A promise to pay is open when recorded on or before ``t`` with a
    promised date on or after ``t``.
    """
    d = ledger.disputes
    open_d = (d["opened_date"] <= t) & ~(d["resolved_date"] <= t).fillna(False)
    disputed = d.loc[open_d.to_numpy(dtype=bool), "invoice_id"].drop_duplicates()
    a = ledger.activities
    promise = (a["kind"] == "promise_to_pay").fillna(False)
    promise &= (a["date"] <= t).fillna(False) & (a["promised_date"] >= t).fillna(False)
    p = a[promise.to_numpy(dtype=bool)]
    named = p["invoice_id"].notna().to_numpy(dtype=bool)
    return (
        disputed.reset_index(drop=True),
        p.loc[named, "invoice_id"].drop_duplicates().reset_index(drop=True),
        p.loc[~named, "customer_id"].drop_duplicates().reset_index(drop=True),
    )


LOOKBACK = 3
"""Earlier snapshots (one horizon apart) that calibrate P(unpaid at the horizon)."""
MIN_CALIBRATION_ROWS = 100


def _calib_design(p: np.ndarray, dpd: np.ndarray, amount: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-4, 1 - 1e-4)
    return np.column_stack(
        [
            np.ones(len(p)),
            np.log(q / (1 - q)),
            (dpd > 0).astype(float),
            np.clip(dpd, -60, 180) / 30.0,
            np.log1p(np.maximum(amount, 0.0)),
        ]
    )


def _calibrator(ledger: Ledger, t: pd.Timestamp, risk, horizon_days: int):
    """A logistic recalibration of P(unpaid at the horizon), learnt from earlier snapshots.

    The Gamma days-late model gives a shape, not always the right level (long
    delays are under-represented among settled invoices). At the snapshots
    ``t − k × horizon`` (k = 1 … :data:`LOOKBACK`) the open items and whether
    each was still unpaid one horizon later are both known at ``t``; a
    logistic regression of that outcome on the model's probability, days past
    due and amount corrects the level. ``None`` when there is too little history.
    """
    import statsmodels.api as sm

    from rpmkit.kpi.book import book, day_number

    view = ledger.as_of(t)
    b = book(view)
    scale = 10.0 ** money.exponent(ledger.reporting_currency)
    preds = risk.invoice_predictions_
    pos = keys.positions(view.invoices["invoice_id"], preds["invoice_id"])
    scored = pos >= 0
    p_late = preds["p_late"].to_numpy()[np.maximum(pos, 0)]
    days_if = preds["days_if_late"].to_numpy()[np.maximum(pos, 0)]
    t_day = int(day_number(pd.Series([t]))[0])
    first_day = int(b.inv_day.min()) if b.n else t_day
    xs, ys = [], []
    for k in range(1, LOOKBACK + 1):  # a few snapshots, each vectorised on the book's arrays
        s_day = t_day - k * horizon_days
        if s_day < first_day:
            break
        open_ = b.open_at(s_day)
        m = np.flatnonzero((open_ > 0) & scored)
        if len(m) == 0:
            continue
        dpd = s_day - b.due_day[m]
        frame = pd.DataFrame({"p_late": p_late[m], "days_if_late": days_if[m]})
        p = risk.model_.p_unpaid_after(frame, dpd, horizon_days)
        xs.append(_calib_design(p, dpd, open_[m] / scale))
        ys.append((b.settled[m] > s_day + horizon_days).astype(float))
    if not xs:
        return None
    x, y = np.vstack(xs), np.concatenate(ys)
    if len(y) < MIN_CALIBRATION_ROWS or y.min() == y.max():
        return None
    try:
        fit = sm.Logit(y, x).fit(disp=0, maxiter=100)
        params = np.asarray(fit.params, dtype=float)
        if not np.all(np.isfinite(params)):
            return None
    except Exception:
        return None

    def apply(p: np.ndarray, dpd: np.ndarray, amount: np.ndarray) -> np.ndarray:
        z = _calib_design(p, dpd, amount) @ params
        return 1.0 / (1.0 + np.exp(-z))

    return apply


def open_items_at(
    ledger: Ledger, as_of, risk, horizon_days: int
) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Open items at ``as_of`` with reporting amounts, ``p_late``, ``p_risk`` and ``excluded``.

    ``risk`` is a fitted :class:`~rpmkit.risk.grades.CustomerRisk`: its model's
    per-invoice predictions (point-in-time features) give ``p_late`` and the
    days-late distribution behind ``p_risk``, the probability the item is still
    unpaid ``horizon_days`` after ``as_of``.
    """
    t = ledger.cut_date(as_of)
    items = ledger.open_items(t)
    scale = 10.0 ** money.exponent(ledger.reporting_currency)
    amount = ledger.to_reporting(items["open_amount"], items["currency"], items["invoice_date"])
    preds = risk.invoice_predictions_
    pos = keys.positions(items["invoice_id"], preds["invoice_id"])
    scored = pos >= 0
    pred = preds.iloc[np.maximum(pos, 0)].reset_index(drop=True)
    pred.loc[~scored, ["p_late", "days_if_late", "expected_days_late"]] = np.nan
    # items the model did not see (issued after its data) take their customer's score
    cust = risk.scores_.set_index("customer_id")
    fallback_p = items["customer_id"].map(cust["p_late"]).fillna(0.5).to_numpy()
    p_late = pred["p_late"].fillna(pd.Series(fallback_p)).to_numpy(dtype=float)
    days_if = pred["days_if_late"].fillna(risk.model_.mean_days_if_late_).to_numpy(dtype=float)
    frame = pd.DataFrame({"p_late": p_late, "days_if_late": days_if})
    dpd = items["days_past_due"].to_numpy()
    p_risk = risk.model_.p_unpaid_after(frame, dpd, horizon_days)
    amount_units = amount.to_numpy(dtype=float) / scale
    calib = _calibrator(ledger, t, risk, horizon_days)
    if calib is not None:
        p_risk = calib(p_risk, dpd, amount_units)
    master = ledger.customers.set_index("customer_id")
    segment = items["segment"].astype("string")
    segment = segment.fillna(items["customer_id"].map(master["segment"]).astype("string"))
    out = pd.DataFrame(
        {
            "customer_id": items["customer_id"],
            "name": items["customer_id"].map(master["name"]),
            "grade": items["customer_id"].map(cust["grade"]),
            "invoice_id": items["invoice_id"],
            "segment": segment.fillna("(none)").astype(str),
            "invoice_date": items["invoice_date"],
            "due_date": items["due_date"],
            "currency": items["currency"],
            "open_amount_doc": items["open_amount"] / (10.0 ** money.exponents(items["currency"])),
            "open_amount": amount.to_numpy(dtype=float) / scale,
            "days_past_due": dpd,
            "p_late": p_late,
            "p_risk": p_risk,
        }
    )
    disputed, promised, promised_customers = excluded_invoices(ledger, t)
    why = np.full(len(out), "", dtype=object)
    if len(promised_customers):
        why[keys.isin(out["customer_id"], promised_customers)] = "promise"
    if len(promised):
        why[keys.isin(out["invoice_id"], promised)] = "promise"
    if len(disputed):
        why[keys.isin(out["invoice_id"], disputed)] = "dispute"
    out["excluded"] = why
    return out, t

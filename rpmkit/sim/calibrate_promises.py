"""Promises to pay calibrated from a ledger's ``promise_to_pay`` activities.

:func:`promise_outcomes` lists the promises made in the history window with
what became of them; :func:`estimate_promises` turns them into
:class:`~rpmkit.sim.levers.Promises` settings for
:func:`rpmkit.sim.calibrate.calibrate` (``Scenario.from_ledger``). A promise
counts once its grace period is over by ``as_of``: it is **kept** when its
recorded ``outcome`` says so, or, when the outcome is blank, when the
invoice's cash settlement completed within ``grace_days`` of the promised
date (customer-level promises without an outcome are left out). Everything is
computed on ``ledger.as_of(as_of)``.

>>> from rpmkit.ledger import Ledger
>>> import pandas as pd
>>> inv = pd.DataFrame(
...     {
...         "invoice_id": ["A", "B"],
...         "customer_id": ["C", "C"],
...         "invoice_date": pd.to_datetime(["2024-01-01"] * 2),
...         "due_date": pd.to_datetime(["2024-01-31"] * 2),
...         "amount": [100, 100],
...         "currency": "USD",
...     }
... )
>>> pay = pd.DataFrame(
...     {
...         "payment_id": ["P"],
...         "payment_date": pd.to_datetime(["2024-02-12"]),
...         "amount": [100],
...         "currency": "USD",
...         "customer_id": ["C"],
...     }
... )
>>> alloc = pd.DataFrame({"payment_id": ["P"], "invoice_id": ["A"], "amount": [100]})
>>> act = pd.DataFrame(
...     {
...         "activity_id": ["1", "2"],
...         "date": pd.to_datetime(["2024-02-05"] * 2),
...         "customer_id": "C",
...         "kind": "promise_to_pay",
...         "invoice_id": ["A", "B"],
...         "promised_date": pd.to_datetime(["2024-02-10"] * 2),
...         "promised_amount": [100, 100],
...     }
... )
>>> led = Ledger(
...     invoices=inv,
...     payments=pay,
...     allocations=alloc,
...     activities=act,
...     customers=pd.DataFrame({"customer_id": ["C"]}),
... )
>>> promise_outcomes(led, "2024-03-31")[["invoice_id", "lead_days", "kept", "pay_after_days"]]
  invoice_id  lead_days   kept  pay_after_days
0          A          5   True             2.0
1          B          5  False             NaN
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from rpmkit import keys
from rpmkit.kpi.book import NEVER, book, day_number
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger, to_date
from rpmkit.sim.levers import PromiseKeeping, Promises

__all__ = ["MIN_PROMISES", "estimate_promises", "promise_outcomes"]

MIN_PROMISES = 30
"""A segment with fewer judged promises takes the overall kept rate."""
_IQR = 2.0 * 0.6744897501960817


def promise_outcomes(
    ledger: Ledger,
    as_of,
    *,
    grace_days: int = 3,
    window_days: int = 365,
    labels: np.ndarray | None = None,
) -> pd.DataFrame:
    """The promises to pay made in the window before ``as_of`` and what became of them.

    Parameters
    ----------
    ledger, as_of
        The ledger and the last day of history (``ledger.as_of(as_of)`` is used).
    grace_days
        Days after the promised date a payment still keeps the promise.
    window_days
        Promises made in this many days up to ``as_of``.
    labels
        Optional segment label per invoice of the as-of view (as
        :func:`rpmkit.sim.calibrate.calibrate` labels them).

    Returns
    -------
    pandas.DataFrame
        One row per promise: ``invoice_id`` (blank for customer-level
        promises), ``segment``, ``made_day`` and ``promised_day`` (day numbers),
        ``lead_days``, ``decided`` (grace period over by ``as_of``), ``recorded``
        (the outcome column said kept or broken), ``kept`` (True / False, NA when
        not decided or not judgeable), ``pay_after_days`` (days from the promised
        date to the day the invoice's cash settlement completed, NaN if not paid
        by ``as_of``).
    """
    t = to_date(as_of)
    view = ledger if ledger.cutoff == t else ledger.as_of(t)  # a view at t already is one
    as_day = int(day_number(pd.Series([t]))[0])
    a = view.activities
    made = day_number(a["date"])
    promised = day_number(a["promised_date"])
    sel = (
        (a["kind"] == "promise_to_pay").to_numpy(dtype=bool, na_value=False)
        & (made > as_day - window_days)
        & (promised < NEVER)
    )
    a, made, promised = a[sel].reset_index(drop=True), made[sel], promised[sel]
    b = book(view)
    p = paid_invoices(b)
    pos = keys.positions(a["invoice_id"], view.invoices["invoice_id"])
    on_invoice = pos >= 0
    safe = np.maximum(pos, 0)
    pay_day = np.where(on_invoice & p.paid[safe], p.pay_day[safe], NEVER)
    decided = promised + grace_days <= as_day
    recorded = a["outcome"].astype("string").str.lower().to_numpy(dtype=object, na_value="")
    has_record = np.isin(recorded, ["kept", "broken"])
    judged = np.where(has_record, recorded == "kept", pay_day <= promised + grace_days)
    known = decided & (has_record | on_invoice)
    kept = pd.array(np.where(known, judged, False), dtype="boolean")
    kept[~known] = pd.NA
    segment = (
        np.where(on_invoice, np.asarray(labels, dtype=object)[safe], None)
        if labels is not None
        else np.full(len(a), None, dtype=object)
    )
    return pd.DataFrame(
        {
            "invoice_id": a["invoice_id"].to_numpy(dtype=object),
            "segment": segment,
            "made_day": made,
            "promised_day": promised,
            "lead_days": promised - made,
            "decided": decided,
            "recorded": has_record,
            "kept": kept,
            "pay_after_days": np.where(pay_day < NEVER, pay_day - promised, np.nan),
        }
    )


def estimate_promises(
    ledger: Ledger,
    as_of,
    base: Promises,
    *,
    labels: np.ndarray | None = None,
    window_days: int = 365,
) -> Promises | None:
    """:class:`Promises` calibrated on the window's promises, or None when it has fewer than 30.

    ``rate`` = promises / calls logged in the window (1 when promises are
    logged but calls are not); promised date: median and ``ln(Q75/Q25)/1.349``
    of the days from promise to promised date; ``kept_rate`` = share kept of
    the decided promises, per segment where a segment has 30 or more
    (``labels``); ``slip_mean_days``/``slip_sd_days`` from the kept promises'
    days from promised date to payment. ``grace_days``, ``follow_up``,
    ``max_promises`` and ``broken_delay_days`` come from ``base``: how late
    broken promisers pay is already in the payment delays calibrated for the
    behaviour, and an extra delay on top counts it twice (see
    ``docs/simulation.md``).
    """
    g = base.grace_days
    out = promise_outcomes(ledger, as_of, grace_days=g, window_days=window_days, labels=labels)
    judged = out[out["kept"].notna()]
    if len(judged) < MIN_PROMISES:
        return None
    t = to_date(as_of)
    view = ledger if ledger.cutoff == t else ledger.as_of(t)  # a view at t already is one
    as_day = int(day_number(pd.Series([t]))[0])
    a = view.activities
    calls = int(
        (
            (a["kind"] == "call").to_numpy(dtype=bool, na_value=False)
            & (day_number(a["date"]) > as_day - window_days)
        ).sum()
    )
    rate = min(1.0, len(out) / calls) if calls else 1.0
    lead = out["lead_days"].to_numpy(dtype=float)
    q25, q50, q75 = np.percentile(lead, [25, 50, 75])
    sigma = float(np.clip(np.log(q75 / q25) / _IQR, 0.0, 3.0)) if q25 > 0 and q75 > q25 else 0.0
    kept = judged["kept"].to_numpy(dtype=bool)
    segments = ()
    if labels is not None:
        rates = judged.assign(k=kept).groupby("segment", dropna=True)["k"].agg(["mean", "size"])
        segments = tuple(
            PromiseKeeping(str(name), float(row["mean"]))
            for name, row in rates.iterrows()
            if row["size"] >= MIN_PROMISES
        )
    slip = judged["pay_after_days"].to_numpy(dtype=float)[kept]
    slip = slip[np.isfinite(slip)]
    return dataclasses.replace(
        base,
        rate=float(rate),
        lead_median_days=float(np.clip(q50, 0.5, 365.0)),
        lead_sigma=sigma,
        kept_rate=float(kept.mean()),
        segments=segments,
        slip_mean_days=float(np.clip(slip.mean(), -30, 30)) if len(slip) else base.slip_mean_days,
        slip_sd_days=float(np.clip(slip.std(), 0, 30)) if len(slip) > 1 else base.slip_sd_days,
    )

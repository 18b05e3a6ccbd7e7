"""Point-in-time features for payment-risk models: only what was known on the day.

Each invoice is described by what its seller knew on its invoice date ``d``:

* the customer's **earlier invoices fully settled before** ``d``: how many
  (``prior_settled``), the share paid after the due date (``prior_late_share``),
  the mean days beyond the due date (``prior_mean_days_late``, negative = early)
  and its trend (``prior_trend_days``: the mean of the last three minus the
  mean of all);
* the invoice itself: ``log_amount_ratio`` (log of its amount over the mean of
  the customer's invoices issued before ``d``), ``terms_days``, ``electronic``
  (delivery channel) and ``segment``;
* disputes known then (``prior_disputes``: disputes opened before ``d``, plus
  earlier settled invoices flagged ``disputed`` when the source has only an
  undated flag);
* the customer's open exposure and past-due balance at the start of ``d``
  (``log_exposure``, ``past_due_share``), counting invoices not fully settled;
* the channel mix of that history (``prior_electronic_share``): a customer who
  moved to electronic bills pays sooner than its paper-era history says.

:data:`EXTRA_FEATURES` are further point-in-time columns a model may opt into:
dispute history on earlier settled invoices (a dispute on a settled invoice is
known by its settlement), ``late_share_x_history`` (the late share times
``prior_settled_log``: a share over many invoices may weigh more than one over
two), the days late of the most recent settled invoice,
recency of the last invoice and settlement, the number of open invoices, how
long the customer has been paperless (a ``paperless_date`` customer attribute)
and the day of the month of the invoice and due dates.

Every sum is a sorted as-of lookup (cumulative sums over ``customer × day``
keys and :func:`numpy.searchsorted`), never a loop over invoices. Outcome
columns (``days_late``, ``late``) are kept apart from the feature columns; the
IBM sample's derived outcome attributes ``days_to_settle``/``days_late`` are
never read.

Examples
--------
>>> import pandas as pd
>>> from rpmkit.ledger import Ledger
>>> flat = pd.DataFrame(
...     {
...         "invoice_id": ["A", "B", "C"],
...         "customer_id": ["K", "K", "K"],
...         "invoice_date": pd.to_datetime(["2024-01-01", "2024-02-15", "2024-03-01"]),
...         "due_date": pd.to_datetime(["2024-01-31", "2024-03-02", "2024-03-31"]),
...         "amount": [10_000, 10_000, 40_000],
...         "currency": "USD",
...         "paid_date": pd.to_datetime(["2024-02-10", "2024-03-02", None]),
...     }
... )
>>> f = invoice_features(Ledger.from_flat(flat))
>>> f[["invoice_id", "prior_settled", "prior_late_share", "prior_mean_days_late"]]  # A paid Feb 10
  invoice_id  prior_settled  prior_late_share  prior_mean_days_late
0          A              0               0.0                   0.0
1          B              1               1.0                  10.0
2          C              1               1.0                  10.0
>>> round(float(f.loc[2, "log_amount_ratio"]), 3)  # 400 over the mean 100 of A and B
1.386
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit.kpi.book import NEVER, book, day_number
from rpmkit.ledger import Ledger
from rpmkit.risk.history import (
    AsOf,
    channel,
    days_since,
    dispute_counts,
    disputed_ever,
    own_dispute,
    paperless_days_log,
)

__all__ = [
    "FEATURES",
    "EXTRA_FEATURES",
    "FLAG_FEATURE",
    "LEAKY_COLUMNS",
    "customer_features",
    "invoice_features",
]

FEATURES: tuple[str, ...] = (
    "prior_settled_log",
    "no_history",
    "prior_late_share",
    "prior_mean_days_late",
    "prior_trend_days",
    "log_amount_ratio",
    "terms_days",
    "electronic",
    "prior_disputes_log",
    "log_exposure",
    "past_due_share",
    "prior_electronic_share",
)
"""Numeric model inputs, in design-matrix order (``segment`` is added as dummies)."""

EXTRA_FEATURES: tuple[str, ...] = (
    "late_share_x_history",
    "prior_disputed_share",
    "prior_disputed_days_late",
    "last_days_late",
    "days_since_invoice_log",
    "days_since_settlement_log",
    "open_count_log",
    "paperless_days_log",
    "invoice_day_of_month",
    "due_day_of_month",
)
"""Further point-in-time inputs, not in the default model: together they worsen the
out-of-time log loss of the IBM sample's training period, and the interaction
``late_share_x_history`` miscalibrates generated ledgers (see ``docs/risk.md``)."""

FLAG_FEATURE = "invoice_disputed"
"""The invoice's own dispute: from the disputes table only when opened by the invoice
date; from an undated ``disputed`` flag only when asked (``undated_flag=True``), since
such a flag is set after the fact. Not in :data:`FEATURES`: a model opts in."""

LEAKY_COLUMNS = ("days_to_settle", "days_late", "paid_date", "settled_date")
"""Outcome columns that must never be features."""

TREND_LAST = 3
MATURE_DAYS = 90
"""Days after its due date from which an invoice's days late train the days model."""


def _features(
    ledger: Ledger, qcust: np.ndarray, qday: np.ndarray, qamount: np.ndarray | None
) -> pd.DataFrame:
    """Features of hypothetical or real invoices of customers ``qcust`` issued on ``qday``."""
    b = book(ledger)
    inv_day, due_day, settled = b.inv_day, b.due_day, b.settled
    known = settled < NEVER
    lo_day = int(inv_day.min()) if b.n else 0
    hi_day = int(max(inv_day.max(), due_day.max(), qday.max() if len(qday) else 0)) if b.n else 0
    span = hi_day - lo_day + 3
    never = span - 1

    def rel(days: np.ndarray) -> np.ndarray:
        return np.where(days >= NEVER, never, np.clip(days - lo_day, 0, never))

    q = rel(qday)
    amount = b.amount.astype(np.float64)

    # earlier invoices settled before the query day: count, late share, days late
    sday = rel(np.where(known, settled, NEVER))
    dl = np.where(known, settled - due_day, 0).astype(np.float64)
    elec = channel(ledger)
    hist = AsOf(
        b.customer, sday, span, known.astype(float), (dl > 0).astype(float), dl, elec * known
    )
    lo, hi = hist.bounds(qcust, q)
    n_set, n_late, sum_dl, n_elec = hist.sums(lo, hi)
    has = hi > lo
    # the most recent settlement before d: its days late and how long ago it was
    prev = np.maximum(hi - 1, 0)
    last_dl = np.where(has, hist.cum[2][hi] - hist.cum[2][prev], 0.0)
    base = qcust.astype(np.int64) * span
    since_settle = days_since(hist, prev, has, q, base)
    with np.errstate(invalid="ignore", divide="ignore"):
        late_share = np.where(n_set > 0, n_late / n_set, 0.0)
        mean_dl = np.where(n_set > 0, sum_dl / n_set, 0.0)
        k = np.minimum(hi - lo, TREND_LAST)
        last = hist.cum[2][hi] - hist.cum[2][np.maximum(hi - TREND_LAST, lo)]
        trend = np.where(n_set > TREND_LAST, last / np.maximum(k, 1) - mean_dl, 0.0)

    # invoices issued before: usual amount and gross exposure; settled before: paid off
    issued = AsOf(b.customer, rel(inv_day), span, np.ones(b.n), amount)
    ilo, ihi = issued.bounds(qcust, q)
    n_issued, amt_issued = issued.sums(ilo, ihi)
    since_invoice = days_since(issued, np.maximum(ihi - 1, 0), ihi > ilo, q, base)
    paid = AsOf(b.customer, sday, span, amount)
    (amt_paid,) = paid.sums(*paid.bounds(qcust, q))
    # past due at d and not settled before d  ==  [due < d] − [max(due, settled) < d]
    due_rows = AsOf(b.customer, rel(due_day), span, amount)
    (amt_due,) = due_rows.sums(*due_rows.bounds(qcust, q))
    both = AsOf(b.customer, rel(np.maximum(due_day, np.where(known, settled, NEVER))), span, amount)
    (amt_due_paid,) = both.sums(*both.bounds(qcust, q))
    exposure = np.maximum(amt_issued - amt_paid, 0.0)
    past_due = np.clip(amt_due - amt_due_paid, 0.0, None)

    disputes = dispute_counts(ledger, b, span, rel, sday, qcust, q)
    # disputed earlier invoices among those settled before d: known by their settlement
    disp = disputed_ever(ledger, b, rel, sday)
    dtab = AsOf(b.customer, np.maximum(sday, disp[1]), span, disp[0], disp[0] * dl)
    n_disp, dl_disp = dtab.sums(*dtab.bounds(qcust, q))

    usual = np.where(n_issued > 0, amt_issued / np.maximum(n_issued, 1), np.nan)
    scale = 10.0 ** _exponent(ledger)
    if qamount is None:
        ratio = np.zeros(len(qcust))
    else:
        ratio = np.where(n_issued > 0, np.log(np.maximum(qamount, 1) / np.maximum(usual, 1)), 0.0)
    return pd.DataFrame(
        {
            "prior_settled": n_set.astype(np.int64),
            "prior_settled_log": np.log1p(n_set),
            "no_history": (n_set == 0).astype(float),
            "prior_late_share": late_share,
            "prior_mean_days_late": mean_dl,
            "prior_trend_days": trend,
            "log_amount_ratio": ratio,
            "prior_disputes": disputes.astype(np.int64),
            "prior_disputes_log": np.log1p(disputes),
            "exposure": exposure / scale,
            "past_due": past_due / scale,
            "log_exposure": np.log1p(exposure / scale),
            "past_due_share": np.where(exposure > 0, past_due / np.maximum(exposure, 1), 0.0),
            # a late share over many invoices says more than one over two
            "late_share_x_history": late_share * np.log1p(n_set),
            "prior_electronic_share": np.where(n_set > 0, n_elec / np.maximum(n_set, 1), 0.0),
            "prior_disputed_share": np.where(n_set > 0, n_disp / np.maximum(n_set, 1), 0.0),
            "prior_disputed_days_late": np.where(n_disp > 0, dl_disp / np.maximum(n_disp, 1), 0.0),
            "last_days_late": last_dl,
            "days_since_invoice_log": np.log1p(since_invoice.astype(float)),
            "days_since_settlement_log": np.log1p(since_settle.astype(float)),
            "open_count_log": np.log1p(np.maximum(n_issued - n_set, 0.0)),
            "paperless_days_log": paperless_days_log(ledger, b, qcust, qday),
        }
    )


def _exponent(ledger: Ledger) -> int:
    from rpmkit import money

    return money.exponent(ledger.reporting_currency)


def invoice_features(ledger: Ledger, *, undated_flag: bool = False) -> pd.DataFrame:
    """One row per invoice: identity, point-in-time features and (apart) its outcome.

    Parameters
    ----------
    ledger
        The ledger; a view cut with :meth:`Ledger.as_of` knows settlements up
        to its cutoff only, so outcomes after it read as unknown.
    undated_flag
        Fill :data:`FLAG_FEATURE` from an undated ``disputed`` invoice flag
        (e.g. the IBM sample's ``Disputed``). That flag is recorded after the
        invoice date, so this is *not* point-in-time; it exists to compare with
        studies that use it.

    Returns
    -------
    DataFrame
        ``invoice_id, customer_id, invoice_date, due_date, amount`` (reporting
        currency units), ``segment``, every column of :data:`FEATURES` plus
        readable ``prior_settled``, ``prior_disputes``, ``exposure``,
        ``past_due``; outcomes ``settled_date``, ``days_late`` (settled date
        − due date, NaN while open), ``late`` (paid after the due date, or
        open and past due at the cutoff; NA when not yet known) and
        ``outcome_known`` (due before the cutoff), ``days_late_bound``
        (days late, or days past due at the cutoff while open) and ``mature``
        (due at least :data:`MATURE_DAYS` before the cutoff).
    """
    b = book(ledger)
    inv = ledger.invoices
    scale = 10.0 ** _exponent(ledger)
    amount = b.amount.astype(np.float64)
    feats = _features(ledger, b.customer, b.inv_day, amount)
    _, last = ledger.date_range() if ledger.cutoff is None else (None, ledger.cutoff)
    cut = int(day_number(pd.Series([last]))[0]) if b.n else 0
    known = b.settled < NEVER
    days_late = np.where(known, b.settled - b.due_day, np.nan)
    overdue_open = ~known & (b.due_day < cut)
    late = pd.array(np.where(known, days_late > 0, True), dtype="boolean")
    late[~(known | overdue_open)] = pd.NA
    front = pd.DataFrame(
        {
            "invoice_id": inv["invoice_id"],
            "customer_id": inv["customer_id"],
            "invoice_date": inv["invoice_date"],
            "due_date": inv["due_date"],
            "amount": amount / scale,
            "segment": pd.Series(np.asarray(b.segments, dtype=object)[b.segment], dtype="string"),
            "terms_days": (b.due_day - b.inv_day).astype(float),
            "electronic": channel(ledger),
        }
    )
    out = pd.concat([front, feats], axis=1)
    out["invoice_day_of_month"] = inv["invoice_date"].dt.day.to_numpy(dtype=float)
    out["due_day_of_month"] = inv["due_date"].dt.day.to_numpy(dtype=float)
    out[FLAG_FEATURE] = own_dispute(ledger, b, undated_flag)
    out["settled_date"] = pd.Series(
        np.where(known, b.settled, 0).astype("datetime64[D]"), dtype="datetime64[us]"
    ).where(known)
    out["days_late"] = days_late
    out["late"] = late
    # Invoices not yet due at the cutoff are left out even when already paid: keeping
    # the early payers alone would bias P(late) down.
    out["outcome_known"] = b.due_day < cut
    # Days late for the days model: observed, or a lower bound while still open;
    # only invoices due long enough ago, so long delays are not censored away.
    out["days_late_bound"] = np.where(
        known, days_late, np.where(overdue_open, cut - b.due_day, np.nan)
    )
    out["mature"] = b.due_day <= cut - MATURE_DAYS
    return out


def customer_features(ledger: Ledger, as_of) -> pd.DataFrame:
    """Features of each customer's next invoice, as if issued the day after ``as_of``.

    The invoice is of the customer's usual amount (``log_amount_ratio`` 0), on
    its most recent terms and channel. Used to grade customers and rank work.

    Returns
    -------
    DataFrame
        One row per customer with invoices by ``as_of``: ``customer_id``,
        ``segment`` and the columns of :func:`invoice_features` that do not
        describe one invoice.
    """
    view = ledger.as_of(as_of)
    b = book(view)
    t = view.cutoff
    day = int(day_number(pd.Series([t]))[0]) + 1
    n_cust = len(b.customers)
    qcust = np.arange(n_cust)
    feats = _features(view, qcust, np.full(n_cust, day, dtype=np.int64), None)
    # latest invoice per customer gives its current terms, channel and segment
    order = np.lexsort((b.inv_day, b.customer))
    last = order[np.r_[b.customer[order][1:] != b.customer[order][:-1], True]] if b.n else order
    front = pd.DataFrame(
        {
            "customer_id": pd.Series(np.asarray(b.customers, dtype=object), dtype="string"),
            "segment": pd.Series(
                np.asarray(b.segments, dtype=object)[b.segment[last]], dtype="string"
            ),
            "terms_days": (b.due_day - b.inv_day)[last].astype(float),
            "electronic": channel(view)[last],
        }
    )
    return pd.concat([front, feats], axis=1)

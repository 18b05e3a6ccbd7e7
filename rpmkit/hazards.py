"""Cox proportional hazards of time to payment: which invoice and customer traits speed it up.

:class:`PaymentHazards` fits statsmodels' ``PHReg`` (Efron ties) on the payment
spells of :func:`rpmkit.survival.payment_spells` (open invoices right-censored
at the as-of date). A hazard ratio above 1 means *faster* payment. Disputes are
a time-varying covariate: a disputed invoice is split at the day its first
dispute opened, so invoices that stayed open longer are not favoured merely
for having had more time to be disputed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.duration.hazard_regression import PHReg

from rpmkit.kpi.book import Book, as_of_day, book
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger
from rpmkit.survival import (
    _CHANNEL,
    _DISPUTED,
    _UNKNOWN,
    Closures,
    Origin,
    _check_alpha,
    _check_choice,
    _ever_disputed,
    _first_dispute_day,
    _spells,
)

__all__ = ["COVARIATES", "PaymentHazards"]

COVARIATES = ("amount", "terms", "segment", "disputed", "channel", "history")
"""Covariates :class:`PaymentHazards` knows, and what each becomes in the model.

* ``amount``: ``log2_amount`` — HR per doubling of the invoice amount (reporting currency);
* ``terms``: ``terms_30d`` — HR per 30 days of payment terms (due − invoice date);
* ``segment``: one ``segment[name]`` dummy per segment but the reference (the largest);
* ``disputed``: time-varying — 0 until the invoice's first dispute is opened, 1 from
  that day on; the flat ``disputed`` flag (fixed) when the ledger has no disputes table;
* ``channel``: ``channel[name]`` dummies (paper / electronic / unknown), largest as reference;
* ``history``: ``history_10d`` — HR per 10 days of the customer's mean days beyond
  terms over invoices *paid before this invoice's date* (no look-ahead), and
  ``no_history`` for invoices with none (their ``history_10d`` is 0).
"""

_UNITS = {
    "log2_amount": "per doubling of amount",
    "terms_30d": "per 30 days of terms",
    "disputed": "disputed vs not",
    "history_10d": "per 10 days beyond terms in the customer's past payments",
    "no_history": "no paid invoice before vs some",
}


def _prior_history(
    b: Book, paid_mask: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For invoices ``rows``: count and mean days beyond terms of the customer's invoices paid
    strictly before each one's invoice date.

    One merged sort of payments and queries by (customer, day, payments after
    queries on the same day), then a cumulative sum restarted per customer:
    O(n log n), no loop over customers.
    """
    pay = np.flatnonzero(paid_mask)
    paid = paid_invoices(b)
    cust = np.r_[b.customer[pay], b.customer[rows]]
    day = np.r_[paid.pay_day[pay], b.inv_day[rows]]
    kind = np.r_[np.ones(len(pay), dtype=np.int8), np.zeros(len(rows), dtype=np.int8)]
    value = np.r_[(paid.pay_day - b.due_day)[pay].astype(np.float64), np.zeros(len(rows))]
    order = np.lexsort((kind, day, cust))
    c_sorted = cust[order]
    cum_n = np.cumsum(kind[order].astype(np.int64))
    cum_v = np.cumsum(value[order])
    starts = np.flatnonzero(np.r_[True, c_sorted[1:] != c_sorted[:-1]])
    group_of = np.cumsum(np.r_[True, c_sorted[1:] != c_sorted[:-1]]) - 1
    base = starts[group_of]
    before_n = np.where(base > 0, cum_n[base - 1], 0)
    before_v = np.where(base > 0, cum_v[base - 1], 0.0)
    n_prior = np.empty(len(order), dtype=np.int64)
    v_prior = np.empty(len(order))
    n_prior[order] = cum_n - before_n
    v_prior[order] = cum_v - before_v
    q = slice(len(pay), None)
    count = n_prior[q]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, v_prior[q] / np.maximum(count, 1), np.nan)
    return count, mean


def _dummies(labels: np.ndarray, prefix: str) -> tuple[dict[str, np.ndarray], str | None]:
    """Indicator columns for all levels but the most frequent one (the reference)."""
    codes, levels = pd.factorize(pd.Series(labels, dtype=object), sort=True)
    if len(levels) < 2:
        return {}, None
    counts = np.bincount(codes, minlength=len(levels))
    ref = int(np.argmax(counts))
    cols = {
        f"{prefix}[{lvl}]": (codes == k).astype(np.float64)
        for k, lvl in enumerate(levels)
        if k != ref
    }
    return cols, str(levels[ref])


class PaymentHazards:
    """Cox proportional-hazards model of time to payment (``PHReg``, Efron ties).

    A hazard ratio (HR) above 1 means **faster payment**: at any day since
    origin, an invoice with that covariate one unit higher (or in that level
    rather than the reference) is that many times as likely to be paid that
    day, given it is still unpaid. HR below 1 means slower payment.

    Parameters
    ----------
    covariates
        Any of :data:`COVARIATES`; see there for the coding and units.
    origin, closures
        As for :class:`PaymentSurvival`.
    alpha
        ``1 − alpha`` is the confidence level of the HR intervals.
    max_rows
        Fit on a random sample of at most this many invoices (``None``: all).
        ``PHReg`` builds its risk sets in Python (about 2.5 s per 100,000
        invoices); a quarter of a million invoices already gives very tight HRs.
    seed
        Seed of the sample's ``numpy.random.SeedSequence``.

    Attributes
    ----------
    table_
        What :meth:`summary` returns.
    reference_
        ``{"segment": level, "channel": level}``: the reference level of each
        categorical covariate.
    dropped_
        Covariate columns left out because they were constant in the data.
    n_, events_
        Invoices and payments the model was fitted on.
    results_
        The statsmodels ``PHRegResults``.

    Examples
    --------
    >>> from rpmkit.synth import generate
    >>> ledger = generate(customers=60, years=1, seed=3).ledger
    >>> cox = PaymentHazards(covariates=("amount", "terms", "history")).fit(ledger, "2023-12-31")
    >>> cox.summary()["covariate"].tolist()
    ['log2_amount', 'terms_30d', 'history_10d', 'no_history']
    >>> bool(cox.summary().set_index("covariate").loc["terms_30d", "hazard_ratio"] < 1)
    True
    """

    def __init__(
        self,
        covariates: Sequence[str] = COVARIATES,
        origin: Origin = "invoice",
        closures: Closures = "censor",
        alpha: float = 0.05,
        max_rows: int | None = 250_000,
        seed: int = 0,
    ) -> None:
        covariates = tuple(covariates)
        unknown = [c for c in covariates if c not in COVARIATES]
        if unknown or not covariates:
            raise ValueError(
                f"covariates must be a non-empty selection of {', '.join(COVARIATES)}; "
                f"got {list(covariates)!r}"
            )
        _check_choice("origin", origin, ("invoice", "due"))
        _check_choice("closures", closures, ("censor", "competing", "exclude"))
        _check_alpha(alpha)
        if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 10):
            raise ValueError(
                f"max_rows must be None or an integer of at least 10; got {max_rows!r}"
            )
        self.covariates, self.origin, self.closures = covariates, origin, closures
        self.alpha, self.max_rows, self.seed = alpha, max_rows, seed

    def _design(self, ledger: Ledger, b: Book, rows: np.ndarray, as_day: int):
        cols: dict[str, np.ndarray] = {}
        reference: dict[str, str] = {}
        notes: list[str] = []
        dispute_day = None
        inv = ledger.invoices
        for name in self.covariates:
            if name == "amount":
                cols["log2_amount"] = np.log2(np.maximum(b.amount[rows], 1).astype(np.float64))
            elif name == "terms":
                cols["terms_30d"] = (b.due_day[rows] - b.inv_day[rows]) / 30.0
            elif name == "segment":
                seg = np.asarray(b.segments, dtype=object)[b.segment[rows]]
                dummies, ref = _dummies(seg, "segment")
                cols.update(dummies)
                if ref is None:
                    notes.append("segment")
                else:
                    reference["segment"] = ref
            elif name == "channel":
                ch = inv[_CHANNEL].astype("string").fillna(_UNKNOWN).to_numpy(dtype=object)[rows]
                dummies, ref = _dummies(ch, "channel")
                cols.update(dummies)
                if ref is None:
                    notes.append("channel")
                else:
                    reference["channel"] = ref
            elif name == "disputed":
                if ledger.disputes.empty and _DISPUTED in inv.columns:
                    cols["disputed"] = _ever_disputed(ledger, as_day)[rows].astype(np.float64)
                else:
                    dispute_day = _first_dispute_day(ledger, as_day)[rows]
                    cols["disputed"] = np.zeros(len(rows))  # set per split row below
            elif name == "history":
                paid = paid_invoices(b)
                mask = paid.paid & (paid.settled <= as_day)
                count, mean = _prior_history(b, mask, rows)
                cols["history_10d"] = np.nan_to_num(mean / 10.0, nan=0.0)
                cols["no_history"] = (count == 0).astype(np.float64)
        return cols, reference, notes, dispute_day

    def fit(self, ledger: Ledger, as_of=None) -> PaymentHazards:
        """Fit the model on the invoices known at ``as_of`` (the cutoff if omitted)."""
        as_day = as_of_day(ledger, as_of)[1]
        b = book(ledger)
        rows, days, event, _ = _spells(b, as_day, self.origin, self.closures)
        if self.max_rows is not None and len(rows) > self.max_rows:
            rng = np.random.default_rng(np.random.SeedSequence(self.seed))
            pick = np.sort(rng.choice(len(rows), self.max_rows, replace=False))
            rows, days, event = rows[pick], days[pick], event[pick]
        if event.sum() < 2:
            raise ValueError("fewer than two paid invoices: nothing to fit a hazard model on")
        cols, reference, dropped, dispute_day = self._design(ledger, b, rows, as_day)
        start = (b.inv_day if self.origin == "invoice" else b.due_day)[rows]
        issue = b.inv_day[rows] - start  # day of issue on the analysis time scale (≤ 0 if "due")
        shift = float(-min(0, int(issue.min())))  # PHReg wants non-negative times
        time = days + shift
        entry = np.zeros(len(rows))
        status = event.astype(np.float64)
        names = list(cols)
        exog = np.column_stack([cols[c] for c in names]) if names else np.zeros((len(rows), 0))
        if dispute_day is not None:
            exog, time, status, entry = _split_at_dispute(
                exog, names.index("disputed"), time, status, entry, dispute_day - start + shift
            )
        # constant columns make the information matrix singular
        varying = [j for j in range(exog.shape[1]) if np.ptp(exog[:, j]) > 0]
        dropped += [names[j] for j in range(len(names)) if j not in varying]
        names = [names[j] for j in varying]
        if not names:
            raise ValueError("every covariate is constant in this ledger: nothing to estimate")
        exog = exog[:, varying]
        model = PHReg(time, exog, status=status, entry=entry, ties="efron")
        res = model.fit()
        ci = np.asarray(res.conf_int(alpha=self.alpha))
        self.results_ = res
        self.reference_ = reference
        self.dropped_ = dropped
        self.n_, self.events_ = int(len(rows)), int(event.sum())
        self.as_of_ = ledger.cut_date(as_of)
        units = []
        for c in names:
            if c.startswith(("segment[", "channel[")):
                kind = c.split("[")[0]
                units.append(f"vs {kind} {reference[kind]}")
            else:
                units.append(_UNITS[c])
        self.table_ = pd.DataFrame(
            {
                "covariate": names,
                "hazard_ratio": np.exp(res.params),
                "lower": np.exp(ci[:, 0]),
                "upper": np.exp(ci[:, 1]),
                "p_value": res.pvalues,
                "coef": res.params,
                "se": res.bse,
                "unit": units,
            }
        )
        return self

    def summary(self) -> pd.DataFrame:
        """Hazard ratios: ``covariate``, ``hazard_ratio``, ``lower``, ``upper``, ``p_value``,
        ``coef`` (log HR), ``se`` and ``unit`` (what one step of the covariate is).

        HR > 1 means faster payment.
        """
        if not hasattr(self, "table_"):
            raise ValueError("call fit(ledger, as_of) first")
        return self.table_.copy()

    def plot(self, **kwargs):
        """Forest plot of the hazard ratios (:func:`rpmkit.plots.survival.hazard_forest`)."""
        from rpmkit.plots.survival import hazard_forest

        kwargs.setdefault("alpha", self.alpha)
        return hazard_forest(self.summary(), **kwargs)

    def __repr__(self) -> str:
        head = f"PaymentHazards(covariates={list(self.covariates)!r}, origin={self.origin!r}"
        if not hasattr(self, "table_"):
            return head + "; not fitted)"
        return (
            f"{head}; fitted as of {self.as_of_.date()} on {self.n_:,} invoices, "
            f"{self.events_:,} paid)"
        )


def _split_at_dispute(
    exog: np.ndarray,
    col: int,
    time: np.ndarray,
    status: np.ndarray,
    entry: np.ndarray,
    opened: np.ndarray,
):
    """Counting-process rows for a time-varying dispute flag.

    An invoice disputed on day ``s`` of its spell ``(0, T]`` becomes two rows:
    undisputed until ``s − ½`` (censored there) and disputed from ``s − ½``
    (entering then) to ``T``. Whole days make the half-day boundary exact:
    an event on day ``s`` counts as disputed. Disputes opened after the spell
    ended leave the invoice undisputed.
    """
    opened = opened.astype(np.float64)
    before = opened <= entry  # disputed from the start
    split = ~before & (opened <= time)
    exog = exog.copy()
    exog[:, col] = before.astype(np.float64)
    idx = np.flatnonzero(split)
    cut = opened[idx] - 0.5
    first_time = time.copy()
    first_time[idx] = cut
    first_status = status.copy()
    first_status[idx] = 0.0
    second = exog[idx].copy()
    second[:, col] = 1.0
    return (
        np.vstack([exog, second]),
        np.r_[first_time, time[idx]],
        np.r_[first_status, status[idx]],
        np.r_[entry, cut],
    )

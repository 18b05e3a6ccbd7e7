"""Roll rates: month-to-month transitions between aging states, absorbing chain, allowance.

At every calendar month end up to ``as_of`` each invoice that is open has a
state, its aging bucket by days past due (the :mod:`rpmkit.kpi.aging`
convention: ``as_of − due_date``, zero or less is ``current``). One month
later it is in a bucket again, or it has closed: ``paid`` (settled by cash,
credit notes, discounts or deductions) or ``written_off`` (closed by a
write-off adjustment). Both are absorbing. Tracking each invoice from one
month end to the next gives the transition counts; bucket-stock ratios are
not transition probabilities.

What counts:

* a transition starts from every invoice open at a month end ``t`` (issued on
  or before ``t``, not fully settled by then) and ends at the next month end;
  invoices issued and closed between two month ends are never open at a
  snapshot and enter no transition, and an invoice issued during a month
  enters its first transition at that month's end;
* ``weight="count"``: each invoice moves as a whole to its state at ``t+1``;
* ``weight="amount"``: the open balance at ``t`` (reporting minor units, each
  invoice at its invoice-date rate, see :mod:`rpmkit.kpi.book`) is split by
  what happened to it during the month: write-offs go to ``written_off``,
  other settlements to ``paid``, and what is still open to its bucket at
  ``t+1``. A unit of balance follows the chain, so the written-off
  probability is the loss rate of a unit of balance.

The pooled matrix adds the last ``months`` transitions. The absorbing chain
(``Q`` bucket → bucket, ``R`` bucket → paid / written off) gives the
fundamental matrix ``N = (I − Q)⁻¹``, the expected months to absorption
``N·1`` and the absorption probabilities ``B = N·R``; the probability of
ending written off is each bucket's loss rate, and the allowance is the open
balance at ``as_of`` in each bucket times it (a provision matrix in the IFRS 9
simplified approach, or a CECL loss-rate estimate).

Examples
--------
>>> import pandas as pd
>>> from rpmkit.ledger import Ledger
>>> flat = pd.DataFrame(
...     {
...         "invoice_id": ["A", "B", "C"],
...         "customer_id": ["C1", "C1", "C2"],
...         "invoice_date": pd.to_datetime(["2024-01-10", "2024-01-15", "2024-01-20"]),
...         "due_date": pd.to_datetime(["2024-02-09", "2024-01-31", "2024-02-19"]),
...         "amount": [10_000, 20_000, 30_000],
...         "paid_date": pd.to_datetime(["2024-02-20", "2024-03-05", None]),
...     }
... )
>>> model = RollRates(weight="count", months=2).fit(Ledger.from_flat(flat), "2024-03-31")
>>> model.counts_.loc["current", ["current", "1-30", "paid"]].tolist()
[0, 2, 1]
>>> model.summary().loc["1-30", ["31-60", "paid"]].tolist()
[0.5, 0.5]
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from rpmkit import money
from rpmkit.jsonable import number
from rpmkit.keys import group_sum
from rpmkit.kpi.aging import DEFAULT_CUTOFFS, bucket_labels
from rpmkit.kpi.book import EVENT_KINDS, Book, book, day_number, day_to_date
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger, to_date

__all__ = [
    "ABSORBING",
    "RollRates",
    "backtest",
    "month_ends",
    "simulate_chain",
    "transitions",
]

ABSORBING = ("paid", "written_off")
"""The absorbing states, after the aging buckets in every state list."""

Weight = Literal["count", "amount"]
_WRITE_OFF = EVENT_KINDS.index("write_off")


# ------------------------------------------------------------------ snapshots
def month_ends(first, last) -> pd.DatetimeIndex:
    """Calendar month ends ``m`` with ``first <= m <= last``.

    >>> month_ends("2024-01-15", "2024-03-31").strftime("%Y-%m-%d").tolist()
    ['2024-01-31', '2024-02-29', '2024-03-31']
    """
    return pd.date_range(to_date(first), to_date(last), freq="ME").astype("datetime64[us]")


def _snapshots(b: Book, as_of: pd.Timestamp, months: int) -> np.ndarray:
    """Day numbers of the month ends the last ``months`` transitions run between."""
    if b.n == 0:
        raise ValueError("the ledger has no invoices")
    first = day_to_date(int(b.inv_day.min()))
    ends = month_ends(first, as_of)
    if len(ends) < 2:
        raise ValueError(
            f"no complete month-end transition between the first invoice ({first.date()}) "
            f"and as_of {as_of.date()}"
        )
    return day_number(pd.Series(ends[-(months + 1) :]))


@dataclass(frozen=True)
class _Step:
    """One month of transitions: invoice rows open at ``start`` and where they went by ``end``."""

    start: int
    end: int
    rows: np.ndarray
    state: np.ndarray
    next_state: np.ndarray
    open_amount: np.ndarray
    still_open: np.ndarray
    paid: np.ndarray
    written_off: np.ndarray


def _steps(b: Book, snaps: np.ndarray, cuts: np.ndarray) -> Iterator[_Step]:
    """Transitions between consecutive snapshots, vectorised over invoices.

    Events are sorted by day once; each month adds its own slice to the running
    settled totals, so the whole window costs one sort plus O(invoices) per month.
    """
    nb = len(cuts) + 1
    order = np.argsort(b.ev_day, kind="stable")
    ev_day, ev_inv, ev_amt = b.ev_day[order], b.ev_inv[order], b.ev_amount[order]
    ev_wo = b.ev_kind[order] == _WRITE_OFF
    bounds = np.searchsorted(ev_day, snaps, side="right")
    written = paid_invoices(b).written_off
    settled = group_sum(ev_inv[: bounds[0]], ev_amt[: bounds[0]], b.n)
    open_now = np.where(b.inv_day <= snaps[0], b.amount - settled, 0)
    for k in range(len(snaps) - 1):
        start, end = int(snaps[k]), int(snaps[k + 1])
        window = slice(bounds[k], bounds[k + 1])
        settled += group_sum(ev_inv[window], ev_amt[window], b.n)
        open_next = np.where(b.inv_day <= end, b.amount - settled, 0)
        rows = np.flatnonzero(open_now > 0)
        wo_inv = ev_inv[window][ev_wo[window]]
        wo_amt = ev_amt[window][ev_wo[window]]
        wo = group_sum(wo_inv, wo_amt, b.n)[rows] if len(wo_inv) else np.zeros(len(rows), np.int64)
        open_t = open_now[rows]
        remain = np.maximum(open_next[rows], 0)
        gone = open_t - remain
        wo_part = np.clip(wo, 0, gone)
        closed = remain == 0
        next_state = np.searchsorted(cuts, end - b.due_day[rows], side="left")
        next_state = np.where(closed, np.where(written[rows], nb + 1, nb), next_state)
        yield _Step(
            start=start,
            end=end,
            rows=rows,
            state=np.searchsorted(cuts, start - b.due_day[rows], side="left"),
            next_state=next_state,
            open_amount=open_t,
            still_open=remain,
            paid=gone - wo_part,
            written_off=wo_part,
        )
        open_now = open_next


def _check_settings(buckets: Sequence[int], weight: str, months: int) -> list[str]:
    labels = bucket_labels(buckets)
    if weight not in ("count", "amount"):
        raise ValueError(f"weight must be 'count' or 'amount', got {weight!r}")
    if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
        raise ValueError(f"months must be a whole number of months >= 1, got {months!r}")
    return labels


def transitions(
    ledger: Ledger,
    as_of,
    *,
    buckets: Sequence[int] = DEFAULT_CUTOFFS,
    months: int = 12,
) -> pd.DataFrame:
    """Each invoice's month-over-month transitions, one row per invoice and month.

    Parameters
    ----------
    ledger
        The ledger; nothing dated after ``as_of`` is used.
    as_of
        The last snapshot is the last calendar month end on or before it.
    buckets
        Upper bounds in days past due of every bucket but the last.
    months
        How many transitions (month-end pairs) back from the last snapshot.

    Returns
    -------
    pandas.DataFrame
        ``invoice_id``, ``from_date`` and ``to_date`` (the two month ends),
        ``from_state``, ``to_state`` (categoricals over all states),
        ``open_amount`` at ``from_date`` and its split by ``to_date`` into
        ``still_open``, ``paid`` and ``written_off`` (reporting minor units;
        the three add up to ``open_amount``).

    Examples
    --------
    >>> import pandas as pd
    >>> from rpmkit.ledger import Ledger
    >>> flat = pd.DataFrame(
    ...     {
    ...         "invoice_id": ["A"],
    ...         "customer_id": ["C1"],
    ...         "invoice_date": pd.to_datetime(["2024-01-10"]),
    ...         "due_date": pd.to_datetime(["2024-02-09"]),
    ...         "amount": [10_000],
    ...         "paid_date": pd.to_datetime(["2024-03-20"]),
    ...     }
    ... )
    >>> t = transitions(Ledger.from_flat(flat), "2024-03-31")
    >>> t[["from_state", "to_state", "open_amount", "paid"]]
      from_state to_state  open_amount   paid
    0    current     1-30        10000      0
    1       1-30     paid        10000  10000
    """
    labels = _check_settings(buckets, "count", months)
    t = to_date(as_of)
    b = book(ledger)
    snaps = _snapshots(b, t, months)
    cuts = np.asarray(buckets, dtype=np.int64)
    states = pd.CategoricalDtype([*labels, *ABSORBING])
    ids = ledger.invoices["invoice_id"]
    parts = []
    for s in _steps(b, snaps, cuts):
        n = len(s.rows)
        parts.append(
            pd.DataFrame(
                {
                    "invoice_id": ids.iloc[s.rows].to_numpy(),
                    "from_date": np.full(n, day_to_date(s.start)).astype("datetime64[us]"),
                    "to_date": np.full(n, day_to_date(s.end)).astype("datetime64[us]"),
                    "from_state": pd.Categorical.from_codes(s.state, dtype=states),
                    "to_state": pd.Categorical.from_codes(s.next_state, dtype=states),
                    "open_amount": s.open_amount,
                    "still_open": s.still_open,
                    "paid": s.paid,
                    "written_off": s.written_off,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------ absorbing chain
def _reach(adjacent: np.ndarray) -> np.ndarray:
    """Reflexive-transitive closure of a small boolean adjacency matrix."""
    reach = adjacent | np.eye(len(adjacent), dtype=bool)
    while True:
        wider = reach | ((reach.astype(np.int64) @ reach.astype(np.int64)) > 0)
        if (wider == reach).all():
            return reach
        reach = wider


def _absorbing(p: np.ndarray) -> dict[str, np.ndarray]:
    """Fundamental matrix, absorption probabilities and times of a transient × all matrix.

    A state whose row has no data, that can get stuck among buckets for ever
    (no path to paid or written off), or that can reach such a state has no
    finite answer: its results are NaN and the others are solved without it.
    """
    nt = p.shape[0]
    known = ~np.isnan(p).any(axis=1)
    q = np.where(known[:, None], p[:, :nt], 0.0)
    r = np.where(known[:, None], p[:, nt:], 0.0)
    reach = _reach(q > 0)
    exits = known & (r.sum(axis=1) > 0)
    stuck = ~known | ~(reach & exits[None, :]).any(axis=1)
    good = ~(reach & stuck[None, :]).any(axis=1)
    fundamental = np.full((nt, nt), np.nan)
    absorb = np.full((nt, r.shape[1]), np.nan)
    to_absorb = np.full(nt, np.nan)
    to_cash = np.full(nt, np.nan)
    g = np.flatnonzero(good)
    if len(g):
        n_good = np.linalg.inv(np.eye(len(g)) - q[np.ix_(g, g)])
        fundamental[np.ix_(g, g)] = n_good
        fundamental[np.ix_(g, np.flatnonzero(~good))] = 0.0
        absorb[g] = n_good @ r[g]
        to_absorb[g] = n_good.sum(axis=1)
        paid = absorb[g, 0]
        # E[T · 1{paid}] = Σ_j N_ij B_j,paid: visits to j, then paid from j (Markov property)
        with np.errstate(invalid="ignore", divide="ignore"):
            to_cash[g] = np.where(paid > 0, (n_good @ paid) / paid, np.nan)
    return {"N": fundamental, "B": absorb, "months": to_absorb, "months_to_cash": to_cash}


def _within(p: np.ndarray, horizon: int) -> np.ndarray:
    """Probability of each absorbing state within ``horizon`` steps: Σ_{k<h} Q^k R."""
    nt = p.shape[0]
    known = ~np.isnan(p).any(axis=1)
    q = np.where(known[:, None], p[:, :nt], 0.0)
    r = np.where(known[:, None], p[:, nt:], 0.0)
    total = np.zeros_like(r)
    power = np.eye(nt)
    for _ in range(horizon):
        total += power @ r
        power = power @ q
    blind = (_reach(q > 0) & ~known[None, :]).any(axis=1)
    total[blind] = np.nan
    return total


# ------------------------------------------------------------------ the model
class RollRates:
    """Roll-rate (transition) matrices, the absorbing Markov chain and the allowance.

    Parameters
    ----------
    buckets
        Upper bounds, in days past due, of every aging bucket but the last:
        ``(0, 30, 60, 90)`` makes ``current, 1-30, 31-60, 61-90, 91+``.
    weight
        ``"amount"`` (default) follows the open balance in reporting minor
        units; ``"count"`` follows invoices.
    months
        Transitions pooled into the matrix: the last ``months`` month-end pairs
        up to ``as_of`` (fewer when the ledger is younger).

    Attributes
    ----------
    states_, transient_
        All states (buckets, then ``paid``, ``written_off``) and the buckets.
    counts_, amounts_
        Invoices and reporting minor units behind each cell (transient × all).
    matrix_
        Transition probabilities by ``weight``; rows sum to 1 (NaN rows for a
        bucket that held nothing in the window).
    monthly_
        Tidy per-month cells: ``month_end`` (the month the transition ends in),
        ``from_state``, ``to_state``, ``invoices``, ``amount``, ``probability``.
    stability_
        Per bucket: ``months`` with data, ``invoices``, the chi-square test of
        homogeneity of its row across months on counts (``chi2``, ``dof``,
        ``p_value``; small p-values mean the row moved) and ``max_cell_sd``, the
        largest standard deviation across months of one of its probabilities.
    fundamental_
        ``N = (I − Q)⁻¹``: expected months spent in each bucket.
    absorption_
        Probability of ending ``paid`` / ``written_off`` from each bucket.
    expected_months_
        ``to_absorption`` (months until paid or written off) and ``to_cash``
        (months until paid, given it ends paid).
    allowance_
        Per bucket and ``total``: ``invoices``, ``open_amount`` at ``as_of``
        (reporting minor units), ``loss_rate`` (probability of ending written
        off; the total row shows allowance / open amount) and ``allowance``
        (minor units, ``open_amount × loss_rate`` rounded half to even per
        bucket; the total is the sum of the rounded buckets, missing when a bucket
        holding open balance has no loss rate because nothing was in it, or
        could reach it, during the window).

    Examples
    --------
    >>> import rpmkit
    >>> from rpmkit.config import sample_dir
    >>> ledger = rpmkit.load(sample_dir()).ledger
    >>> model = RollRates().fit(ledger, "2024-12-31")
    >>> model
    RollRates(current/1-30/31-60/61-90/91+, weight=amount, 12 months to 2024-12-31; fitted)
    >>> bool(np.allclose(model.summary().sum(axis=1), 1.0))
    True
    >>> int(model.allowance_.loc["total", "open_amount"]) == rpmkit.kpi.aging(
    ...     ledger, "2024-12-31"
    ... ).open_ar
    True
    """

    def __init__(
        self,
        buckets: Sequence[int] = DEFAULT_CUTOFFS,
        weight: Weight = "amount",
        months: int = 12,
    ) -> None:
        self.labels = _check_settings(buckets, weight, months)
        self.buckets = tuple(int(x) for x in buckets)
        self.weight = weight
        self.months = int(months)
        self.as_of_: pd.Timestamp | None = None

    # -------------------------------------------------------------- fitting
    def fit(self, ledger: Ledger, as_of) -> RollRates:
        """Count transitions up to ``as_of``, solve the chain and price the open book.

        Only documents dated on or before ``as_of`` are used, so fitting the
        full ledger or ``ledger.as_of(as_of)`` gives the same result.
        """
        t = ledger.cut_date(as_of)
        b = book(ledger)
        snaps = _snapshots(b, t, self.months)
        cuts = np.asarray(self.buckets, dtype=np.int64)
        nt = len(self.labels)
        ns = nt + len(ABSORBING)
        self.transient_ = list(self.labels)
        self.states_ = [*self.labels, *ABSORBING]
        self.currency_ = ledger.reporting_currency
        self.as_of_ = t
        self.snapshots_ = pd.DatetimeIndex([day_to_date(int(d)) for d in snaps])

        counts, amounts = [], []
        for s in _steps(b, snaps, cuts):
            cell = s.state * ns
            counts.append(np.bincount(cell + s.next_state, minlength=nt * ns))
            flows = np.concatenate([cell + s.next_state, cell + nt, cell + nt + 1])
            values = np.concatenate([s.still_open, s.paid, s.written_off])
            amounts.append(group_sum(flows, values, nt * ns))
        cnt = np.stack(counts).reshape(-1, nt, ns)
        amt = np.stack(amounts).reshape(-1, nt, ns)
        self.months_used_ = len(cnt)
        self.counts_ = self._cells(cnt.sum(axis=0))
        self.amounts_ = self._cells(amt.sum(axis=0))
        weights = (cnt if self.weight == "count" else amt).astype(np.float64)
        self.matrix_ = self._cells(_normalise(weights.sum(axis=0)))
        monthly_p = _normalise(weights)
        self.monthly_ = self._monthly(cnt, amt, monthly_p)
        self.stability_ = self._stability(cnt, monthly_p)

        chain = _absorbing(self.matrix_.to_numpy())
        self.fundamental_ = pd.DataFrame(chain["N"], index=self.transient_, columns=self.transient_)
        self.absorption_ = pd.DataFrame(chain["B"], index=self.transient_, columns=list(ABSORBING))
        self.expected_months_ = pd.DataFrame(
            {"to_absorption": chain["months"], "to_cash": chain["months_to_cash"]},
            index=self.transient_,
        )
        self._open_book = _open_book(b, int(day_number(pd.Series([t]))[0]), cuts, nt)
        self.allowance_ = self._allowance(self.absorption_["written_off"].to_numpy())
        return self

    def _cells(self, values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(
            values,
            index=pd.Index(self.transient_, name="from_state"),
            columns=pd.Index(self.states_, name="to_state"),
        )

    def _monthly(self, cnt: np.ndarray, amt: np.ndarray, prob: np.ndarray) -> pd.DataFrame:
        m, nt, ns = cnt.shape
        ends = np.repeat(self.snapshots_[1:].to_numpy(), nt * ns)
        states = pd.CategoricalDtype(self.states_)
        frame = pd.DataFrame(
            {
                "month_end": ends,
                "from_state": pd.Categorical.from_codes(
                    np.tile(np.repeat(np.arange(nt), ns), m), dtype=states
                ),
                "to_state": pd.Categorical.from_codes(np.tile(np.arange(ns), m * nt), dtype=states),
                "invoices": cnt.reshape(-1),
                "amount": amt.reshape(-1),
                "probability": prob.reshape(-1),
            }
        )
        return frame

    def _stability(self, cnt: np.ndarray, prob: np.ndarray) -> pd.DataFrame:
        from scipy.stats import chi2_contingency

        rows = []
        for i, label in enumerate(self.transient_):
            table = cnt[:, i, :]
            table = table[table.sum(axis=1) > 0]
            table = table[:, table.sum(axis=0) > 0]
            chi2 = dof = p_value = np.nan
            if table.shape[0] >= 2 and table.shape[1] >= 2:
                test = chi2_contingency(table, correction=False)
                chi2, dof, p_value = float(test.statistic), int(test.dof), float(test.pvalue)
            with np.errstate(invalid="ignore"):
                sd = np.nanstd(prob[:, i, :], axis=0) if len(table) else np.full(1, np.nan)
            rows.append(
                {
                    "from_state": label,
                    "months": int(len(table)),
                    "invoices": int(cnt[:, i, :].sum()),
                    "chi2": chi2,
                    "dof": dof,
                    "p_value": p_value,
                    "max_cell_sd": float(np.nanmax(sd)) if len(table) else np.nan,
                }
            )
        return pd.DataFrame(rows).set_index("from_state")

    def _allowance(self, loss: np.ndarray) -> pd.DataFrame:
        open_amount, invoices = self._open_book
        allowance = _price(open_amount, loss)
        frame = pd.DataFrame(
            {
                "invoices": invoices,
                "open_amount": open_amount,
                "loss_rate": loss,
                "allowance": pd.array(allowance, dtype="Int64"),
            },
            index=pd.Index(self.transient_, name="bucket"),
        )
        # unknown while any bucket holding open balance has no loss rate
        total_allowance = frame["allowance"].sum(skipna=False)
        total_open = int(open_amount.sum())
        frame.loc["total"] = [
            int(invoices.sum()),
            total_open,
            float(total_allowance) / total_open
            if total_open and pd.notna(total_allowance)
            else np.nan,
            total_allowance,
        ]
        return frame.astype({"invoices": "int64", "open_amount": "int64", "allowance": "Int64"})

    # -------------------------------------------------------------- results
    def _require_fit(self) -> None:
        if self.as_of_ is None:
            raise ValueError("RollRates is not fitted: call fit(ledger, as_of) first")

    def predict_write_offs(self, horizon_months: int) -> pd.DataFrame:
        """Expected write-offs of today's open book within ``horizon_months`` month ends.

        Per bucket: ``open_amount`` at ``as_of``, ``probability`` of being
        written off within the horizon (``Σ_{k<h} Q^k R``) and ``write_offs``
        (minor units, rounded half to even per bucket); plus a ``total`` row.
        """
        self._require_fit()
        if isinstance(horizon_months, bool) or not isinstance(horizon_months, int | np.integer):
            raise ValueError(f"horizon_months must be a whole number, got {horizon_months!r}")
        if horizon_months < 1:
            raise ValueError(f"horizon_months must be >= 1, got {horizon_months}")
        prob = _within(self.matrix_.to_numpy(), int(horizon_months))[:, 1]
        open_amount = self._open_book[0]
        predicted = _price(open_amount, prob)
        frame = pd.DataFrame(
            {
                "open_amount": open_amount,
                "probability": prob,
                "write_offs": pd.array(predicted, dtype="Int64"),
            },
            index=pd.Index(self.transient_, name="bucket"),
        )
        total = frame["write_offs"].sum(skipna=False)
        frame.loc["total"] = [
            int(open_amount.sum()),
            float(total) / open_amount.sum() if open_amount.sum() and pd.notna(total) else np.nan,
            total,
        ]
        return frame.astype({"open_amount": "int64", "write_offs": "Int64"})

    def summary(self) -> pd.DataFrame:
        """The pooled transition matrix: buckets × all states, rows summing to 1."""
        self._require_fit()
        return self.matrix_.copy()

    def plot(self, kind: Literal["matrix", "allowance", "stability"] = "matrix", **kwargs):
        """A figure of the fit: the transition ``"matrix"`` heatmap (default),
        the ``"allowance"`` by bucket or the per-month ``"stability"`` lines.

        Keyword arguments go to the :mod:`rpmkit.plots.rollrate` builder.
        """
        self._require_fit()
        from rpmkit.plots import rollrate as figures

        if kind == "matrix":
            return figures.transition_heatmap(self.matrix_, counts=self.counts_, **kwargs)
        if kind == "allowance":
            scale = 10.0 ** money.exponent(self.currency_)
            units = self.allowance_.drop(index="total").astype({"allowance": "float64"})
            units[["open_amount", "allowance"]] = units[["open_amount", "allowance"]] / scale
            return figures.allowance_bars(units, self.currency_, **kwargs)
        if kind == "stability":
            return figures.roll_rate_stability(self.monthly_, **kwargs)
        raise ValueError(f"kind must be 'matrix', 'allowance' or 'stability', got {kind!r}")

    def to_dict(self) -> dict:
        """JSON-ready: ``states`` and the square ``matrix`` over them (paid and
        written off absorb, so their rows are unit rows), the allowance by bucket
        in currency units, expected months and write-off probabilities; NaN as ``None``.
        """
        self._require_fit()
        scale = 10 ** money.exponent(self.currency_)
        nt, ns = len(self.transient_), len(self.states_)
        square = np.zeros((ns, ns))
        square[:nt] = self.matrix_.to_numpy()
        square[nt:, nt:] = np.eye(ns - nt)
        allowance = {
            label: {
                "invoices": int(row["invoices"]),
                "open_amount": int(row["open_amount"]) / scale,
                "loss_rate": number(row["loss_rate"]),
                "allowance": None if pd.isna(row["allowance"]) else int(row["allowance"]) / scale,
            }
            for label, row in self.allowance_.iterrows()
        }
        total = allowance.pop("total")
        return {
            "as_of": self.as_of_.date().isoformat(),
            "snapshot": self.snapshots_[-1].date().isoformat(),
            "months": self.months_used_,
            "weight": self.weight,
            "currency": self.currency_,
            "states": list(self.states_),
            "matrix": [[number(v) for v in row] for row in square],
            "transitions": int(self.counts_.to_numpy().sum()),
            "expected_months_to_absorption": _num_map(self.expected_months_["to_absorption"]),
            "expected_months_to_cash": _num_map(self.expected_months_["to_cash"]),
            "write_off_probability": _num_map(self.absorption_["written_off"]),
            "allowance": allowance,
            "allowance_total": total,
        }

    def to_json(self, **kwargs) -> str:
        """:meth:`to_dict` as JSON text (strict: no NaN)."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    def __repr__(self) -> str:
        head = f"RollRates({'/'.join(self.labels)}, weight={self.weight}"
        if self.as_of_ is None:
            return f"{head}, months={self.months}; not fitted)"
        return f"{head}, {self.months_used_} months to {self.snapshots_[-1].date()}; fitted)"


def _normalise(weights: np.ndarray) -> np.ndarray:
    """Rows (last axis) divided by their totals; NaN where a row is empty."""
    totals = weights.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, weights / np.where(totals > 0, totals, 1.0), np.nan)


def _open_book(b: Book, day: int, cuts: np.ndarray, nb: int) -> tuple[np.ndarray, np.ndarray]:
    """Open amount (reporting minor units) and invoice count per bucket at ``day``."""
    open_ = b.open_at(day)
    sel = open_ > 0
    bucket = np.searchsorted(cuts, day - b.due_day[sel], side="left")
    return group_sum(bucket, open_[sel], nb), np.bincount(bucket, minlength=nb)


def _price(amount: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """``amount × rate`` in minor units, half to even; missing (NaN) where the rate is
    unknown and something is open, zero where nothing is open."""
    return np.where(amount == 0, 0.0, np.rint(amount.astype(np.float64) * rate))


def _num_map(series: pd.Series) -> dict[str, float | None]:
    return {str(k): number(v) for k, v in series.items()}


# ------------------------------------------------------------------ back-test
def backtest(
    ledger: Ledger,
    origins: Sequence,
    horizon_months: int = 12,
    *,
    buckets: Sequence[int] = DEFAULT_CUTOFFS,
    weight: Weight = "amount",
    months: int = 12,
) -> pd.DataFrame:
    """Predicted against realised write-offs of the book open at each origin.

    At each origin a :class:`RollRates` is fitted on ``ledger.as_of(origin)``
    (nothing later is visible), and the write-offs of the invoices open then
    within ``horizon_months`` are predicted with :meth:`RollRates.predict_write_offs`.
    The realised figure is the write-off adjustments booked on those same
    invoices after the origin and up to the horizon end (origin plus
    ``horizon_months`` calendar months; a month-end origin ends at a month end).

    Returns
    -------
    pandas.DataFrame
        Index ``origin``; ``horizon_end``, ``open_amount`` at the origin,
        ``predicted``, ``realised``, ``error`` (predicted − realised), all in
        reporting minor units, ``ratio`` (predicted / realised) and
        ``allowance`` (the lifetime allowance at the origin).

    Examples
    --------
    >>> import rpmkit
    >>> from rpmkit.config import sample_dir
    >>> ledger = rpmkit.load(sample_dir()).ledger
    >>> result = backtest(ledger, ["2023-12-31"], horizon_months=6)
    >>> result.columns.tolist()
    ['horizon_end', 'open_amount', 'predicted', 'realised', 'error', 'ratio', 'allowance']
    >>> bool(result["realised"].iloc[0] > 0)
    True
    """
    if not len(origins):
        raise ValueError("origins must name at least one date")
    model = RollRates(buckets, weight, months)
    if isinstance(horizon_months, bool) or not isinstance(horizon_months, int | np.integer):
        raise ValueError(f"horizon_months must be a whole number, got {horizon_months!r}")
    if horizon_months < 1:
        raise ValueError(f"horizon_months must be >= 1, got {horizon_months}")
    known = ledger.cutoff if ledger.cutoff is not None else ledger.date_range()[1]
    b = book(ledger)
    is_wo = b.ev_kind == _WRITE_OFF
    rows = []
    for origin in origins:
        t0 = to_date(origin)
        end = t0 + pd.DateOffset(months=int(horizon_months))
        if t0.is_month_end:
            end = end + pd.offsets.MonthEnd(0)
        if end > known:
            raise ValueError(
                f"origin {t0.date()}: the horizon ends {end.date()}, after the ledger's "
                f"last known day {known.date()}"
            )
        day0, day1 = (int(x) for x in day_number(pd.Series([t0, end])))
        fitted = RollRates(model.buckets, weight, months).fit(ledger.as_of(t0), t0)
        predicted = fitted.predict_write_offs(int(horizon_months))
        open_then = b.open_at(day0) > 0
        sel = is_wo & (b.ev_day > day0) & (b.ev_day <= day1) & open_then[b.ev_inv]
        realised = int(b.ev_amount[sel].sum())
        pred = predicted.loc["total", "write_offs"]
        pred = int(pred) if pd.notna(pred) else pd.NA
        rows.append(
            {
                "origin": t0,
                "horizon_end": end,
                "open_amount": int(predicted.loc["total", "open_amount"]),
                "predicted": pred,
                "realised": realised,
                "error": pred - realised if pred is not pd.NA else pd.NA,
                "ratio": float(pred) / realised if realised and pred is not pd.NA else np.nan,
                "allowance": fitted.allowance_.loc["total", "allowance"],
            }
        )
    out = pd.DataFrame(rows).set_index("origin")
    return out.astype({"predicted": "Int64", "error": "Int64", "allowance": "Int64"})


# ---------------------------------------------------------------- Monte Carlo
def simulate_chain(
    matrix: pd.DataFrame,
    start_state: str,
    n: int,
    rng: np.random.Generator,
    *,
    max_months: int = 1200,
) -> pd.DataFrame:
    """Monte Carlo paths of an absorbing chain, all paths advanced together each month.

    Parameters
    ----------
    matrix
        Transition probabilities, rows = transient states, columns = every
        state (the rows' labels plus absorbing ones), e.g. ``RollRates.summary()``.
    start_state
        The transient state every path starts in.
    n
        Number of paths.
    rng
        The random stream (e.g. ``np.random.default_rng(np.random.SeedSequence(1))``).
    max_months
        Paths still transient after this many months end as ``"open"``.

    Returns
    -------
    pandas.DataFrame
        One row per path: ``state`` (the absorbing state reached, or
        ``"open"``) and ``months`` (steps taken).

    Examples
    --------
    >>> m = pd.DataFrame(
    ...     [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]],
    ...     index=["current", "late"],
    ...     columns=["current", "late", "paid"],
    ... )
    >>> paths = simulate_chain(m, "current", 20_000, np.random.default_rng(1))
    >>> round(float(paths["months"].mean()), 1)  # 1/0.5 months current, then one late
    3.0
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a whole number of paths >= 1, got {n!r}")
    transient = [str(x) for x in matrix.index]
    columns = [str(x) for x in matrix.columns]
    missing = [s for s in transient if s not in columns]
    if missing:
        raise ValueError(f"matrix columns must include every row state; missing {missing}")
    absorbing = [c for c in columns if c not in transient]
    if not absorbing:
        raise ValueError("matrix has no absorbing state (a column that is not a row)")
    if start_state not in transient:
        raise ValueError(f"start_state must be one of the rows {transient}, got {start_state!r}")
    p = matrix.rename(index=str, columns=str).loc[transient, transient + absorbing]
    p = p.to_numpy(dtype=np.float64)
    if np.isnan(p).any() or (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError("matrix rows must be non-negative probabilities summing to 1")
    cum = np.cumsum(p, axis=1)
    cum[:, -1] = 1.0
    nt = len(transient)
    state = np.full(int(n), transient.index(start_state), dtype=np.int64)
    months = np.zeros(int(n), dtype=np.int64)
    alive = np.arange(int(n))
    for _ in range(int(max_months)):
        if not len(alive):
            break
        u = rng.random(len(alive))
        nxt = (u[:, None] >= cum[state[alive]]).sum(axis=1)
        state[alive] = nxt
        months[alive] += 1
        alive = alive[nxt < nt]
    labels = np.array([*transient, *absorbing, "open"], dtype=object)
    final = np.where(state >= nt, state, len(labels) - 1)
    return pd.DataFrame(
        {
            "state": pd.Categorical(labels[final], categories=[*absorbing, "open"]),
            "months": months,
        }
    )

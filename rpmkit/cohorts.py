"""Invoice vintages and customer-acquisition cohorts, point in time.

:class:`VintageCurves` follows each invoice-month (or quarter) vintage from the
day its invoices were issued: at each age (days since invoice date) the share
of the vintage's invoiced amount that was **collected** in cash, **credited**
(credit notes), **discounted** (discounts and deductions), **written off** or
is still **open**. The five shares sum to 1 at every age, because open
invoices stay in the denominator. An age is observed only when every invoice
the vintage can hold has reached it by ``as_of`` (the vintage's last calendar
day + age ≤ ``as_of``); later ages are missing (``NaN``), never extrapolated,
so a curve never changes on ages it has already shown unless the ledger is
changed retroactively.

:class:`AcquisitionCohorts` groups customers by when they were acquired and
follows each cohort month by month: active customers, sales, share of sales
paid late, average days to pay and the share written off.

Amounts are in reporting-currency minor units, from the prepared
:class:`~rpmkit.kpi.book.Book` (each invoice and its settlement events at the
invoice-date rate); days to pay and "paid" follow :mod:`rpmkit.kpi.payment`.

Examples
--------
>>> import pandas as pd
>>> from rpmkit.ledger import Ledger
>>> flat = pd.DataFrame(
...     {
...         "invoice_id": ["A", "B"],
...         "customer_id": ["C1", "C2"],
...         "invoice_date": pd.to_datetime(["2024-01-10", "2024-01-20"]),
...         "due_date": pd.to_datetime(["2024-02-09", "2024-02-19"]),
...         "amount": [30_000, 10_000],
...         "paid_date": pd.to_datetime(["2024-02-05", None]),
...     }
... )
>>> curves = VintageCurves(max_age_days=60, step_days=30).fit(Ledger.from_flat(flat), "2024-04-30")
>>> m = curves.matrix()  # A, three quarters of January's amount, was paid at 26 days
>>> m.columns.tolist(), m.loc["2024-01"].tolist()
([0, 30, 60], [0.0, 0.75, 0.75])
>>> curves.summary().loc["2024-01", ["invoiced", "collected_30d", "collected", "open"]].tolist()
[400.0, 0.75, 0.75, 0.25]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from rpmkit import keys, money
from rpmkit.jsonable import plain
from rpmkit.kpi.book import EVENT_KINDS, NEVER, Book, as_of_day, book, day_number
from rpmkit.kpi.payment import paid_invoices
from rpmkit.ledger import Ledger
from rpmkit.schema import DATE_DTYPE, TABLES

__all__ = ["COHORT_METRICS", "SHARES", "AcquisitionCohorts", "VintageCurves"]

Freq = Literal["month", "quarter"]
SHARES = ("collected", "credited", "discounted", "written_off", "open")
"""The parts of a vintage's amount at an age; they sum to 1."""

_KIND_SHARE = {
    "applied": "collected",
    "credit_note": "credited",
    "write_off": "written_off",
    "discount": "discounted",
    "deduction": "discounted",
}
# indexed by the book's event kind codes; a kind added to the book without a share fails here
_SHARE_OF_KIND = np.array([SHARES.index(_KIND_SHARE[k]) for k in EVENT_KINDS])
_SETTLED = len(SHARES) - 1
_MONTHS = {"month": 1, "quarter": 3}
_CREATED = TABLES["customers"].column("created_date").name
_CUSTOMER_ID = TABLES["customers"].key[0]

COHORT_METRICS = (
    "active_customers",
    "active_share",
    "invoices",
    "sales",
    "late_share",
    "days_to_pay",
    "written_off_share",
)
"""Metrics :meth:`AcquisitionCohorts.matrix` can pivot."""


def _check_freq(freq: str) -> str:
    if freq not in _MONTHS:
        raise ValueError(f"freq must be 'month' or 'quarter', got {freq!r}")
    return freq


def _check_days(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _month_of(days: np.ndarray) -> np.ndarray:
    """Calendar months since 1970-01 of day numbers (pandas' monthly Period ordinals)."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _last_day_of_month(months: np.ndarray) -> np.ndarray:
    first_next = (months + 1).astype("datetime64[M]").astype("datetime64[D]")
    return first_next.astype(np.int64) - 1


def _periods(ordinals: np.ndarray, freq: str) -> pd.PeriodIndex:
    return pd.PeriodIndex.from_ordinals(ordinals, freq="M" if freq == "month" else "Q")


def _segment_list(segments: Sequence[str] | str | None) -> tuple[str, ...] | None:
    if segments is None:
        return None
    segments = (segments,) if isinstance(segments, str) else tuple(segments)
    if not segments or not all(isinstance(x, str) for x in segments):
        raise ValueError(f"segments must be None or a non-empty list of names, got {segments!r}")
    return segments


def _segment_codes(b: Book, segments: tuple[str, ...] | None) -> np.ndarray | None:
    """Codes of the wanted segments in ``b``; refuses names the ledger does not have."""
    if segments is None:
        return None
    unknown = [x for x in segments if x not in b.segments]
    if unknown and b.n:
        raise ValueError(f"unknown segment(s) {unknown}; the ledger has {sorted(b.segments)}")
    return np.flatnonzero(b.segments.isin(list(segments)))


class VintageCurves:
    """Share of each invoice vintage collected, credited, written off or open by age.

    Parameters
    ----------
    freq
        ``"month"`` or ``"quarter"``: invoices are grouped by the calendar
        month (quarter) of their invoice date.
    max_age_days, step_days
        The age grid: ``0, step_days, 2·step_days, … ≤ max_age_days`` days
        since invoice date. An event dated ``d`` days after its invoice counts
        from the first grid age ``≥ d`` (age 30 = settled by the end of the
        30th day after the invoice date).
    basis
        ``"amount"``: shares of the vintage's invoiced amount (reporting
        currency). ``"count"``: every invoice weighs the same; an invoice
        half paid counts half collected, half open.
    summary_ages
        Ages (days) whose collected share :meth:`summary` shows.
    segments
        Only invoices of these segments (the invoice's own segment, else its
        customer's); ``None`` for all.

    Attributes
    ----------
    curves_ : pandas.DataFrame
        Tidy, one row per vintage and grid age: ``vintage`` (``Period``),
        ``age_days``, ``n_invoices``, ``invoiced`` (reporting minor units),
        ``observed`` and the :data:`SHARES` (fractions; ``NaN`` where not
        observed).
    vintages_ : pandas.DataFrame
        Per vintage: ``n_invoices``, ``invoiced`` (minor units), ``last_day``
        and the shares at ``as_of`` (settled by then, whatever the age) plus
        the collected share at each of ``summary_ages``.
    as_of_, currency_ : the date fitted at and the reporting currency.
    """

    def __init__(
        self,
        freq: Freq = "month",
        max_age_days: int = 360,
        step_days: int = 15,
        basis: Literal["amount", "count"] = "amount",
        *,
        summary_ages: Sequence[int] = (30, 60, 90, 180),
        segments: Sequence[str] | None = None,
    ) -> None:
        self.freq = _check_freq(freq)
        self.max_age_days = _check_days("max_age_days", max_age_days, 0)
        self.step_days = _check_days("step_days", step_days, 1)
        if basis not in ("amount", "count"):
            raise ValueError(f"basis must be 'amount' or 'count', got {basis!r}")
        self.basis = basis
        self.summary_ages = tuple(_check_days("summary_ages", a, 0) for a in summary_ages)
        self.segments = _segment_list(segments)

    @property
    def ages(self) -> np.ndarray:
        """The age grid in days."""
        return np.arange(0, self.max_age_days + 1, self.step_days, dtype=np.int64)

    def fit(self, ledger: Ledger, as_of) -> VintageCurves:
        """Compute the curves from what ``ledger`` knows at the end of ``as_of``.

        Parameters
        ----------
        ledger
            The ledger; invoices and settlement events dated after ``as_of`` are ignored.
        as_of
            Calendar date of the question.

        Returns
        -------
        VintageCurves
            ``self``, fitted.
        """
        as_of_ts, t = as_of_day(ledger, as_of)
        b = book(ledger)
        sel = b.inv_day <= t
        codes = _segment_codes(b, self.segments)
        if codes is not None:
            sel &= np.isin(b.segment, codes)
        step = _MONTHS[self.freq]
        inv_month = _month_of(b.inv_day[sel])
        ordinal = inv_month // step
        vintage_ords, vcode = np.unique(ordinal, return_inverse=True)
        nv = len(vintage_ords)
        last_day = _last_day_of_month(vintage_ords * step + step - 1)

        vmap = np.full(b.n, -1, dtype=np.int64)
        vmap[sel] = vcode
        ev = (b.ev_day <= t) & (vmap[b.ev_inv] >= 0)
        ev_inv = b.ev_inv[ev]
        ev_v = vmap[ev_inv]
        ev_share = _SHARE_OF_KIND[b.ev_kind[ev]]
        amounts = b.amount[sel]
        if self.basis == "amount":
            denom = keys.group_sum(vcode, amounts, nv).astype(np.float64)
            weight = b.ev_amount[ev]
        else:
            denom = np.bincount(vcode, minlength=nv).astype(np.float64)
            # each event as a fraction of its own invoice, so every invoice weighs 1
            weight = b.ev_amount[ev] / np.maximum(b.amount[ev_inv], 1)

        ages = np.union1d(self.ages, self.summary_ages)
        ev_age = b.ev_day[ev] - b.inv_day[ev_inv]
        slot = np.searchsorted(ages, ev_age, side="left")
        on_grid = slot < len(ages)
        cum = self._sums(
            ev_v[on_grid] * len(ages) + slot[on_grid],
            ev_share[on_grid],
            weight[on_grid],
            nv * len(ages),
        ).reshape(nv, len(ages), _SETTLED)
        cum = np.cumsum(cum, axis=1)
        shares = self._shares(cum, denom[:, None])
        observed = last_day[:, None] + ages[None, :] <= t
        shares[~observed] = np.nan

        now = self._shares(self._sums(ev_v, ev_share, weight, nv), denom)
        n_invoices = np.bincount(vcode, minlength=nv)
        invoiced = keys.group_sum(vcode, amounts, nv)
        vintages = _periods(vintage_ords, self.freq)

        grid = np.searchsorted(ages, self.ages)
        n_ages = len(self.ages)
        curves = pd.DataFrame(
            {
                "vintage": np.repeat(vintages, n_ages),
                "age_days": np.tile(self.ages, nv),
                "n_invoices": np.repeat(n_invoices, n_ages),
                "invoiced": np.repeat(invoiced, n_ages),
                "observed": observed[:, grid].ravel(),
            }
        )
        for i, name in enumerate(SHARES):
            curves[name] = shares[:, grid, i].ravel()
        table = pd.DataFrame(
            {"n_invoices": n_invoices, "invoiced": invoiced},
            index=pd.Index(vintages, name="vintage"),
        )
        table["last_day"] = last_day.astype("datetime64[D]").astype(DATE_DTYPE)
        for a in self.summary_ages:
            table[f"collected_{a}d"] = shares[:, int(np.searchsorted(ages, a)), 0]
        for i, name in enumerate(SHARES):
            table[name] = now[:, i]
        self.curves_ = curves
        self.vintages_ = table
        self.as_of_ = as_of_ts
        self.currency_ = ledger.reporting_currency
        return self

    def _sums(self, cell: np.ndarray, share: np.ndarray, weight: np.ndarray, n: int) -> np.ndarray:
        """Per cell and settled share, the summed weights: shape ``(n, 4)``."""
        index = cell * _SETTLED + share
        if self.basis == "amount":
            sums = keys.group_sum(index, weight, n * _SETTLED).astype(np.float64)
        else:
            sums = np.bincount(index, weights=weight, minlength=n * _SETTLED)
        return sums.reshape(n, _SETTLED)

    @staticmethod
    def _shares(settled: np.ndarray, denom: np.ndarray) -> np.ndarray:
        """Settled parts over the denominator, with ``open`` as the remainder (sum exactly 1)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            parts = settled / denom[..., None]
            still_open = (denom[..., None] - settled.sum(axis=-1, keepdims=True)) / denom[..., None]
        return np.concatenate([parts, still_open], axis=-1)

    # ------------------------------------------------------------ results
    def _check_fitted(self) -> None:
        if not hasattr(self, "curves_"):
            raise ValueError("VintageCurves is not fitted: call fit(ledger, as_of) first")

    def matrix(self, share: str = "collected") -> pd.DataFrame:
        """Vintages (rows) × ages in days (columns) of one share, ``NaN`` where unobserved."""
        self._check_fitted()
        if share not in SHARES:
            raise ValueError(f"share must be one of {SHARES}, got {share!r}")
        m = self.curves_.pivot(index="vintage", columns="age_days", values=share)
        return m.rename_axis(columns="age_days")

    def summary(self) -> pd.DataFrame:
        """Per vintage: invoices, invoiced amount, collected share at ``summary_ages``, status now.

        Columns ``n_invoices``, ``invoiced`` (reporting currency units),
        ``collected_<a>d`` for each summary age (``NaN`` while unobserved),
        then ``collected``, ``credited``, ``discounted``, ``written_off`` and
        ``open``: the shares settled by ``as_of`` whatever the age.
        """
        self._check_fitted()
        out = self.vintages_.drop(columns="last_day")
        out["invoiced"] = out["invoiced"] / 10 ** money.exponent(self.currency_)
        return out

    def plot(self, kind: Literal["heatmap", "lines"] = "heatmap", share: str = "collected", **kw):
        """A vintage heatmap or one line per vintage (:mod:`rpmkit.plots.cohorts`)."""
        from rpmkit.plots.cohorts import vintage_heatmap, vintage_lines

        if kind == "heatmap":
            return vintage_heatmap(self.matrix(share), share=share, **kw)
        if kind == "lines":
            return vintage_lines(self.matrix(share), share=share, **kw)
        raise ValueError(f"kind must be 'heatmap' or 'lines', got {kind!r}")

    def to_dict(self) -> dict:
        """JSON-ready: settings, age grid, per vintage its shares by age (``None`` = unobserved).

        Shape: ``{"as_of", "currency", "freq", "basis", "ages_days": [...], "vintages": [{"vintage",
        "n_invoices", "invoiced", "collected": [...], ..., "open": [...], "to_date": {...}}]}``.
        """
        self._check_fitted()
        scale = 10 ** money.exponent(self.currency_)
        vintages = []
        for vintage, part in self.curves_.groupby("vintage", sort=True):
            row = {
                "vintage": str(vintage),
                "n_invoices": int(part["n_invoices"].iloc[0]),
                "invoiced": float(part["invoiced"].iloc[0]) / scale,
            }
            row.update({s: [plain(v) for v in part[s].to_numpy()] for s in SHARES})
            status = self.vintages_.loc[vintage]
            row["to_date"] = {s: plain(status[s]) for s in SHARES}
            vintages.append(row)
        return {
            "as_of": self.as_of_.date().isoformat(),
            "currency": self.currency_,
            "freq": self.freq,
            "basis": self.basis,
            "ages_days": self.ages.tolist(),
            "vintages": vintages,
        }

    def __repr__(self) -> str:
        what = f"VintageCurves(freq={self.freq!r}, ages 0..{self.max_age_days}"
        what += f" step {self.step_days}, basis={self.basis!r}"
        what += ")" if self.segments is None else f", segments={list(self.segments)})"
        if not hasattr(self, "curves_"):
            return f"{what}: not fitted"
        return f"{what}: {len(self.vintages_)} vintages as of {self.as_of_.date()}"


_WRITE_OFF = EVENT_KINDS.index("write_off")


class AcquisitionCohorts:
    """Customers grouped by when they were acquired, followed month by month.

    A customer's acquisition date is its ``created_date`` when that falls on
    or after the ledger's first invoice date (and not after its own first
    invoice), else the date of its first invoice. Customers created before the
    ledger begins were already trading then: their acquisition is not in the
    data, so they are left out (counted in ``existing_customers_``). Without
    ``created_date`` every customer is placed by its first invoice, so the
    earliest cohorts then also hold customers who were trading before the
    ledger begins.

    Month ``k`` of a customer is the ``k``-th calendar month after its
    acquisition month (0 = the month it was acquired). A cohort's month ``k``
    is shown once it is a complete calendar month by ``as_of`` for every
    customer of the cohort; later cells are missing.

    Parameters
    ----------
    freq
        ``"quarter"`` or ``"month"``: the width of a cohort.
    segments
        Only customers whose first invoice is in one of these segments (the
        invoice's own segment, else its customer's), with all their invoices;
        ``None`` for all.

    Attributes
    ----------
    cohorts_ : pandas.DataFrame
        Tidy, one row per cohort and observed month: ``cohort`` (``Period``),
        ``months_since``, ``customers`` (cohort size), ``active_customers``
        (customers invoiced in that month), ``active_share``, ``invoices``,
        ``sales`` (reporting minor units), ``late_share`` (of the month's
        sales whose timeliness is known at ``as_of`` — paid, or open past
        due — the share paid after the due date or still open past due),
        ``days_to_pay`` (mean over the month's paid invoices, as in
        :func:`rpmkit.kpi.days_to_pay`) and ``written_off_share`` (of sales,
        written off by ``as_of``).
    existing_customers_ : int
        Customers left out because they were created before the ledger begins.
    as_of_, currency_ : the date fitted at and the reporting currency.

    Examples
    --------
    >>> import pandas as pd
    >>> from rpmkit.ledger import Ledger
    >>> flat = pd.DataFrame(
    ...     {
    ...         "invoice_id": ["A", "B", "C"],
    ...         "customer_id": ["C1", "C1", "C2"],
    ...         "invoice_date": pd.to_datetime(["2024-01-10", "2024-03-05", "2024-02-01"]),
    ...         "due_date": pd.to_datetime(["2024-02-09", "2024-04-04", "2024-03-02"]),
    ...         "amount": [10_000, 20_000, 5_000],
    ...         "paid_date": pd.to_datetime(["2024-02-19", "2024-03-30", None]),
    ...     }
    ... )
    >>> cohorts = AcquisitionCohorts("month").fit(Ledger.from_flat(flat), "2024-04-30")
    >>> m = cohorts.matrix("active_customers")
    >>> m.loc["2024-01"].tolist(), m.loc["2024-02"].tolist()  # Feb's month 3 is not over
    ([1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, nan])
    >>> s = cohorts.summary()  # C1 paid A 10 days late, B on time; C2's C is open past due
    >>> s.loc["2024-01", ["customers", "sales", "days_to_pay"]].tolist()
    [1.0, 300.0, 32.5]
    >>> s["late_share"].round(4).tolist()
    [0.3333, 1.0]
    """

    def __init__(self, freq: Freq = "quarter", *, segments: Sequence[str] | None = None) -> None:
        self.freq = _check_freq(freq)
        self.segments = _segment_list(segments)

    def fit(self, ledger: Ledger, as_of) -> AcquisitionCohorts:
        """Build the cohorts from what ``ledger`` knows at the end of ``as_of``.

        Returns ``self``, fitted.
        """
        as_of_ts, t = as_of_day(ledger, as_of)
        b = book(ledger)
        step = _MONTHS[self.freq]
        inv = np.flatnonzero(b.inv_day <= t)
        cust = b.customer[inv]
        nc = len(b.customers)
        first = np.full(nc, NEVER, dtype=np.int64)
        np.minimum.at(first, cust, b.inv_day[inv])
        trading = first < NEVER
        start = int(b.inv_day[inv].min()) if len(inv) else NEVER
        master = ledger.customers
        created = day_number(
            keys.lookup(pd.Series(b.customers), master[_CUSTOMER_ID], master[_CREATED])
        )
        existing = trading & (created < start)
        acquired = np.where((created >= start) & (created < first), created, first)
        member = trading & ~existing
        codes = _segment_codes(b, self.segments)
        if codes is not None:
            # the segment of a customer's first invoice (latest row on ties) decides
            first_row = np.full(nc, -1, dtype=np.int64)
            firsts = inv[b.inv_day[inv] == first[cust]]
            first_row[b.customer[firsts]] = firsts
            wanted = np.zeros(nc, dtype=bool)
            wanted[trading] = np.isin(b.segment[first_row[trading]], codes)
            existing &= wanted
            member &= wanted

        acq_month = _month_of(np.where(member, acquired, 0))
        cohort_ord = acq_month // step
        month_t = int(_month_of(np.array([t]))[0])
        complete = month_t if _last_day_of_month(np.array([month_t]))[0] == t else month_t - 1
        ords, ccode_m = np.unique(cohort_ord[member], return_inverse=True)
        k_max = complete - (ords * step + step - 1)
        keep_c = k_max >= 0
        ords, k_max = ords[keep_c], k_max[keep_c]
        remap = np.cumsum(keep_c) - 1
        ccode = np.full(nc, -1, dtype=np.int64)
        ccode[np.flatnonzero(member)] = np.where(keep_c[ccode_m], remap[ccode_m], -1)
        n_c = len(ords)
        width = int(k_max.max()) + 1 if n_c else 0

        c_of = ccode[cust]
        k = _month_of(b.inv_day[inv]) - acq_month[cust]
        in_cell = c_of >= 0
        if n_c:
            in_cell &= k <= k_max[np.maximum(c_of, 0)]
        inv, cust, cell = inv[in_cell], cust[in_cell], (c_of * width + k)[in_cell]
        n_cells = n_c * width

        paid = paid_invoices(b)
        paid_t = paid.paid[inv] & (paid.settled[inv] <= t)
        open_late = (paid.settled[inv] > t) & (b.due_day[inv] < t)
        late = (paid_t & (paid.pay_day[inv] > b.due_day[inv])) | open_late
        amount = b.amount[inv]
        wo = (b.ev_kind == _WRITE_OFF) & (b.ev_day <= t)
        cell_of_inv = np.full(b.n, -1, dtype=np.int64)
        cell_of_inv[inv] = cell
        wo &= cell_of_inv[b.ev_inv] >= 0
        pairs = np.unique(cell * nc + cust)
        sums = {
            "active_customers": np.bincount(pairs // max(nc, 1), minlength=n_cells),
            "invoices": np.bincount(cell, minlength=n_cells),
            "sales": keys.group_sum(cell, amount, n_cells),
            "_late": keys.group_sum(cell[late], amount[late], n_cells),
            "_known": keys.group_sum(cell[paid_t | open_late], amount[paid_t | open_late], n_cells),
            "_paid": np.bincount(cell[paid_t], minlength=n_cells),
            "_days": np.bincount(
                cell[paid_t],
                weights=(paid.pay_day[inv] - b.inv_day[inv])[paid_t].astype(np.float64),
                minlength=n_cells,
            ),
            "_written_off": keys.group_sum(cell_of_inv[b.ev_inv[wo]], b.ev_amount[wo], n_cells),
        }
        frame = pd.DataFrame(
            {
                "cohort": np.repeat(_periods(ords, self.freq), width),
                "months_since": np.tile(np.arange(width, dtype=np.int64), n_c),
                "customers": np.repeat(np.bincount(ccode[ccode >= 0], minlength=n_c), width),
                **sums,
            }
        )
        observed = frame["months_since"].to_numpy() <= np.repeat(k_max, width)
        self._cells = frame[observed].reset_index(drop=True)
        self.cohorts_ = self._metrics(self._cells)
        self.existing_customers_ = int(existing.sum())
        self.as_of_ = as_of_ts
        self.currency_ = ledger.reporting_currency
        return self

    @staticmethod
    def _metrics(cells: pd.DataFrame) -> pd.DataFrame:
        """Ratios from the summed parts (works per cell and per cohort alike)."""
        out = cells[[c for c in cells.columns if not c.startswith("_")]].copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            out["active_share"] = cells["active_customers"] / cells["customers"]
            out["late_share"] = cells["_late"] / cells["_known"].where(cells["_known"] > 0)
            out["days_to_pay"] = cells["_days"] / cells["_paid"].where(cells["_paid"] > 0)
            out["written_off_share"] = cells["_written_off"] / cells["sales"].where(
                cells["sales"] > 0
            )
        cols = ["customers", "active_customers", "active_share", "invoices", "sales"]
        cols += ["late_share", "days_to_pay", "written_off_share"]
        lead = [c for c in ("cohort", "months_since") if c in out.columns]
        return out[lead + cols]

    # ------------------------------------------------------------ results
    def _check_fitted(self) -> None:
        if not hasattr(self, "cohorts_"):
            raise ValueError("AcquisitionCohorts is not fitted: call fit(ledger, as_of) first")

    def matrix(self, metric: str = "active_share") -> pd.DataFrame:
        """Cohorts (rows) × months since acquisition (columns) of one of :data:`COHORT_METRICS`.

        ``sales`` is in reporting currency units; unobserved cells are ``NaN``.
        """
        self._check_fitted()
        if metric not in COHORT_METRICS:
            raise ValueError(f"metric must be one of {COHORT_METRICS}, got {metric!r}")
        m = self.cohorts_.pivot(index="cohort", columns="months_since", values=metric)
        m = m.astype("float64")
        if metric == "sales":
            m = m / 10 ** money.exponent(self.currency_)
        return m

    def summary(self) -> pd.DataFrame:
        """Per cohort over its observed months.

        Columns ``customers``, ``months_observed``, ``invoices``, ``sales``
        (currency units), ``sales_per_customer``, ``active_3m`` and
        ``active_12m`` (share of the cohort invoiced in month 3 / 12 after
        acquisition, ``NaN`` until observed), ``late_share``, ``days_to_pay``
        and ``written_off_share`` over all its observed months.
        """
        self._check_fitted()
        cells = self._cells
        parts = [c for c in cells.columns if c not in ("cohort", "months_since", "customers")]
        total = cells.groupby("cohort", sort=True)[parts].sum()
        total.insert(0, "customers", cells.groupby("cohort", sort=True)["customers"].first())
        out = self._metrics(total).drop(columns=["active_customers", "active_share"])
        out.insert(1, "months_observed", cells.groupby("cohort", sort=True).size())
        out["sales"] = out["sales"] / 10 ** money.exponent(self.currency_)
        out.insert(4, "sales_per_customer", out["sales"] / out["customers"])
        shares = self.matrix("active_share")
        for month in (3, 12):
            col = shares[month] if month in shares.columns else np.nan
            out.insert(out.columns.get_loc("late_share"), f"active_{month}m", col)
        return out

    def plot(self, metric: str = "active_share", **kw):
        """A heatmap of one metric, cohorts × months since acquisition (:mod:`rpmkit.plots`)."""
        from rpmkit.plots.cohorts import cohort_heatmap

        return cohort_heatmap(self.matrix(metric), metric=metric, currency=self.currency_, **kw)

    def to_dict(self) -> dict:
        """JSON-ready: the settings and per cohort its size and metrics by month.

        Shape: ``{"as_of", "currency", "freq", "existing_customers", "cohorts": [{"cohort",
        "customers", "months_since": [...], "<metric>": [...] for each metric}]}``.
        """
        self._check_fitted()
        rows = []
        for cohort, part in self.cohorts_.groupby("cohort", sort=True):
            row = {
                "cohort": str(cohort),
                "customers": int(part["customers"].iloc[0]),
                "months_since": part["months_since"].tolist(),
            }
            for metric in COHORT_METRICS:
                values = part[metric].to_numpy()
                if metric == "sales":
                    values = values / 10 ** money.exponent(self.currency_)
                row[metric] = [plain(v) for v in values]
            rows.append(row)
        return {
            "as_of": self.as_of_.date().isoformat(),
            "currency": self.currency_,
            "freq": self.freq,
            "existing_customers": self.existing_customers_,
            "cohorts": rows,
        }

    def __repr__(self) -> str:
        what = f"AcquisitionCohorts(freq={self.freq!r})"
        if self.segments is not None:
            what = f"{what[:-1]}, segments={list(self.segments)})"
        if not hasattr(self, "cohorts_"):
            return f"{what}: not fitted"
        n = self.cohorts_["cohort"].nunique()
        return f"{what}: {n} cohorts as of {self.as_of_.date()}"

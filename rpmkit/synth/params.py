"""Parameters of the synthetic ledger: one frozen, validated dataclass.

Every rate is a probability in ``[0, 1]`` per the unit its name says (per
invoice, per payment, per customer); every ``*_days`` value is in calendar
days; amounts are in units of the reporting currency (not minor units).
Vary a scenario with :func:`dataclasses.replace` or ``generate(**overrides)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import pandas as pd

from rpmkit.schema import PAYMENT_METHODS
from rpmkit.synth.specs import (
    CURRENCIES,
    DEFAULT_BEHAVIOURS,
    DEFAULT_SEGMENTS,
    BehaviourSpec,
    SegmentSpec,
    check_mix,
    check_number,
    check_pairs,
    fail,
)

__all__ = ["SynthParams"]


@dataclass(frozen=True)
class SynthParams:
    """Everything that shapes a synthetic ledger; same params → same ledger, bit for bit.

    Parameters
    ----------
    customers
        Number of customer accounts, in ``[1, 10_000_000]``.
    years
        Length of the ledger in years from ``start``, in ``[1/12, 30]``,
        rounded to whole months; the last day is the day before
        ``start + months``.
    seed
        Root of the ``numpy.random.SeedSequence``, a non-negative integer.
    start
        First day of the ledger (ISO date). A fixed default: nothing reads the clock.
    reporting_currency
        ISO 4217 code of the home currency, one of :data:`CURRENCIES`.
    segments, behaviours
        Segment and payer-type mixes (:class:`SegmentSpec`, :class:`BehaviourSpec`).
    new_customer_share
        Share of customers opened during the ledger (the rest existed before).
    annual_growth
        Growth of sales volume per year, in ``[-0.9, 5]`` (0.08 = +8 %/year).
    seasonality_amplitude
        Relative swing of monthly sales around the trend, in ``[0, 0.95]``.
    seasonal_peak_month
        Calendar month (1-12) with the highest sales.
    discount_taker_share
        Share of customers on discount terms (``2/10 NET30``) who take discounts.
    discount_take_rate
        Share of a discount taker's invoices paid within the discount window.
    weekly_pay_run_share, month_end_pay_run_share
        Shares of customers paying only on one weekday / on the last business
        day of the month (their payments wait for the next run).
    heavy_tail_rate, heavy_tail_mean_days
        Share of invoices paid extra late, and the mean extra delay (exponential).
    method_delay_days
        ``(method, days)`` pairs added to the delay of payments by that method
        (cheques arrive later by mail, cards settle early), days in ``[-30, 30]``.
    method_switch_rate
        Share of invoices paid by a random method other than the customer's usual one.
    partial_payment_rate
        Share of invoices paid in two instalments (the second may fall after the end).
    short_pay_rate
        Share of invoices paid short by 0.5-8 %.
    short_pay_deduction_share
        Share of short-pays booked as a ``deduction`` adjustment; the rest stay
        open (and may be written off as small balances).
    overpayment_rate
        Share of payment lines paying 0.1-5 % more than owed (unapplied cash).
    credit_note_rate
        Share of invoices corrected by a credit note within 10 business days.
    credit_note_full_share
        Share of those corrections cancelling the whole invoice.
    dispute_rate
        Share of invoices disputed.
    dispute_reasons, dispute_outcomes
        ``(code, share)`` mixes of reason codes and outcomes (``credit_note``,
        ``rejected``, ``partially_accepted``).
    dispute_resolution_median_days, dispute_resolution_sigma
        Lognormal resolution time of a dispute: median in ``[1, 365]`` days, sigma.
    write_off_age_days
        Days past due after which an item that will not be paid is written off
        (at the next month end), in ``[30, 3650]``.
    write_off_probability
        Probability such an item is written off rather than left open.
    reminder_days, call_days, letter_days, agency_days
        Collection steps: days past due (``[1, 730]``) of each reminder,
        call, dunning letter and agency placement for items still open then.
    call_rate, agency_rate
        Share of due calls actually made / of agency placements made.
    promise_rate
        Share of calls that end with a promise to pay.
    promise_honest_share
        Share of promises whose date the customer actually meets when payment
        is within 30 days (other promises are kept only by chance).
    payer_name_variant_share
        Share of customers whose name on bank statements differs from the master.
    typo_rate, missing_reference_rate, extra_reference_rate, leading_zeros_rate
        Per-payment rates of remittance noise: a mistyped invoice number, no
        invoice reference, a reference to an invoice not paid, invoice numbers
        with leading zeros dropped.
    po_reference_rate
        Per-payment rate of quoting the PO number instead of the invoice
        number (customers with PO numbers only).
    foreign_currency_share
        Share of customers billed in a foreign currency.
    foreign_currencies
        Codes of those currencies (from :data:`CURRENCIES`, not the reporting one).
    fx_daily_volatility
        Daily standard deviation of log exchange rates (random walk), in ``[0, 0.1]``.
    """

    customers: int = 1000
    years: float = 2.0
    seed: int = 20240101
    start: str = "2023-01-01"
    reporting_currency: str = "USD"
    segments: tuple[SegmentSpec, ...] = DEFAULT_SEGMENTS
    behaviours: tuple[BehaviourSpec, ...] = DEFAULT_BEHAVIOURS
    new_customer_share: float = 0.15
    annual_growth: float = 0.08
    seasonality_amplitude: float = 0.12
    seasonal_peak_month: int = 11
    discount_taker_share: float = 0.6
    discount_take_rate: float = 0.92
    weekly_pay_run_share: float = 0.12
    month_end_pay_run_share: float = 0.08
    heavy_tail_rate: float = 0.04
    heavy_tail_mean_days: float = 25.0
    method_delay_days: tuple[tuple[str, float], ...] = (
        ("ach", 0.0),
        ("wire", -1.0),
        ("card", -2.0),
        ("check", 3.0),
        ("other", 0.0),
    )
    method_switch_rate: float = 0.08
    partial_payment_rate: float = 0.03
    short_pay_rate: float = 0.02
    short_pay_deduction_share: float = 0.6
    overpayment_rate: float = 0.008
    credit_note_rate: float = 0.02
    credit_note_full_share: float = 0.3
    dispute_rate: float = 0.025
    dispute_reasons: tuple[tuple[str, float], ...] = (
        ("pricing", 0.35),
        ("quantity", 0.20),
        ("damaged", 0.15),
        ("not_received", 0.15),
        ("duplicate_billing", 0.15),
    )
    dispute_outcomes: tuple[tuple[str, float], ...] = (
        ("credit_note", 0.45),
        ("rejected", 0.30),
        ("partially_accepted", 0.25),
    )
    dispute_resolution_median_days: float = 21.0
    dispute_resolution_sigma: float = 0.8
    write_off_age_days: int = 180
    write_off_probability: float = 0.75
    reminder_days: tuple[int, ...] = (7, 21)
    call_days: tuple[int, ...] = (35, 55)
    letter_days: tuple[int, ...] = (75,)
    agency_days: tuple[int, ...] = (120,)
    call_rate: float = 0.6
    agency_rate: float = 0.5
    promise_rate: float = 0.4
    promise_honest_share: float = 0.6
    payer_name_variant_share: float = 0.45
    typo_rate: float = 0.03
    missing_reference_rate: float = 0.05
    extra_reference_rate: float = 0.03
    leading_zeros_rate: float = 0.08
    po_reference_rate: float = 0.15
    foreign_currency_share: float = 0.03
    foreign_currencies: tuple[str, ...] = ("EUR", "GBP", "CAD")
    fx_daily_volatility: float = 0.004

    def __post_init__(self) -> None:
        o = "SynthParams"
        check_number(o, "customers", self.customers, 1, 10_000_000, integer=True)
        check_number(o, "years", self.years, 1 / 12, 30.0)
        check_number(o, "seed", self.seed, 0, 2**128 - 1, integer=True)
        try:
            start = pd.Timestamp(self.start)
        except (ValueError, TypeError):
            start = None
        if not isinstance(self.start, str) or start is None or start != start.normalize():
            fail(o, "start", "an ISO calendar date such as '2023-01-01'", self.start)
        if not 1900 <= start.year <= 2200:
            fail(o, "start", "a date in the years [1900, 2200]", self.start)
        if self.reporting_currency not in CURRENCIES:
            fail(o, "reporting_currency", f"one of {tuple(CURRENCIES)}", self.reporting_currency)
        self._check_specs()
        ranges = {
            "annual_growth": (-0.9, 5.0),
            "seasonality_amplitude": (0.0, 0.95),
            "heavy_tail_mean_days": (0.0, 365.0),
            "dispute_resolution_median_days": (1.0, 365.0),
            "dispute_resolution_sigma": (0.0, 3.0),
            "fx_daily_volatility": (0.0, 0.1),
        }
        integers = {"seasonal_peak_month": (1, 12), "write_off_age_days": (30, 3650)}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ranges:
                check_number(o, f.name, value, *ranges[f.name])
            elif f.name in integers:
                check_number(o, f.name, value, *integers[f.name], integer=True)
            elif f.name.endswith(("_rate", "_share", "_probability")):
                check_number(o, f.name, value, 0.0, 1.0)
        if self.weekly_pay_run_share + self.month_end_pay_run_share > 1:
            fail(
                o,
                "weekly_pay_run_share + month_end_pay_run_share",
                "at most 1",
                self.weekly_pay_run_share + self.month_end_pay_run_share,
            )
        if self.partial_payment_rate + self.short_pay_rate > 1:
            fail(
                o,
                "partial_payment_rate + short_pay_rate",
                "at most 1",
                self.partial_payment_rate + self.short_pay_rate,
            )
        self._check_collections()
        self._check_currencies()

    def _check_specs(self) -> None:
        o = "SynthParams"
        for name, kind in (("segments", SegmentSpec), ("behaviours", BehaviourSpec)):
            specs = getattr(self, name)
            if not (isinstance(specs, tuple) and specs and all(isinstance(s, kind) for s in specs)):
                fail(o, name, f"a non-empty tuple of {kind.__name__}", specs)
            if len({s.name for s in specs}) != len(specs):
                fail(o, name, "specs with distinct names", [s.name for s in specs])
            if not math.isclose(sum(s.share for s in specs), 1.0, abs_tol=1e-9):
                fail(o, f"{name} shares", "summing to 1", [s.share for s in specs])
        check_pairs(o, "method_delay_days", self.method_delay_days, PAYMENT_METHODS, -30.0, 30.0)
        used = {m for s in self.segments for m, _ in s.methods}
        missing = used - {m for m, _ in self.method_delay_days}
        if missing:
            fail(
                o,
                "method_delay_days",
                f"an entry for every method used ({sorted(used)})",
                self.method_delay_days,
            )
        check_mix(o, "dispute_reasons", self.dispute_reasons)
        check_mix(
            o,
            "dispute_outcomes",
            self.dispute_outcomes,
            ("credit_note", "rejected", "partially_accepted"),
        )

    def _check_collections(self) -> None:
        for name in ("reminder_days", "call_days", "letter_days", "agency_days"):
            steps = getattr(self, name)
            if not isinstance(steps, tuple):
                fail("SynthParams", name, "a tuple of integers", steps)
            for day in steps:
                check_number("SynthParams", name, day, 1, 730, integer=True)

    def _check_currencies(self) -> None:
        o = "SynthParams"
        fc = self.foreign_currencies
        if not isinstance(fc, tuple) or len(set(fc)) != len(fc):
            fail(o, "foreign_currencies", "a tuple of distinct currency codes", fc)
        for code in fc:
            if code not in CURRENCIES or code == self.reporting_currency:
                fail(
                    o,
                    "foreign_currencies",
                    f"codes from {tuple(CURRENCIES)} other than the reporting currency",
                    code,
                )
        if self.foreign_currency_share > 0 and not fc:
            fail(o, "foreign_currencies", "non-empty when foreign_currency_share > 0", fc)

    # ------------------------------------------------------------ derived
    @property
    def start_date(self) -> pd.Timestamp:
        """``start`` as a ``Timestamp``."""
        return pd.Timestamp(self.start)

    @property
    def months(self) -> int:
        """Whole months covered: ``round(12 * years)``, at least 1."""
        return max(1, round(12 * self.years))

    @property
    def end_date(self) -> pd.Timestamp:
        """Last day of the ledger: the day before ``start + months``."""
        return self.start_date + pd.DateOffset(months=self.months) - pd.Timedelta(days=1)

"""Building blocks of the generator's parameters: segments, payer types, terms, currencies.

Validation helpers here raise ``ValueError`` messages that name the owner,
the field and the allowed range, e.g. ``SegmentSpec('smb').share must be a
number in [0.0, 1.0], got 1.5``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rpmkit.schema import PAYMENT_METHODS

__all__ = [
    "BEHAVIOUR_TYPES",
    "CURRENCIES",
    "DEFAULT_BEHAVIOURS",
    "DEFAULT_SEGMENTS",
    "BehaviourSpec",
    "SegmentSpec",
    "parse_terms",
]

# Approximate value of one unit in USD and the countries billed in it. Only
# these currencies can be reporting or foreign currencies of a synthetic ledger.
CURRENCIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "USD": (1.0, ("US",)),
    "EUR": (1.08, ("DE", "FR", "NL", "IE", "ES", "IT")),
    "GBP": (1.27, ("GB",)),
    "CAD": (0.74, ("CA",)),
    "CHF": (1.12, ("CH",)),
    "AUD": (0.66, ("AU",)),
    "SEK": (0.095, ("SE",)),
    "MXN": (0.058, ("MX",)),
    "JPY": (0.0068, ("JP",)),
}

BEHAVIOUR_TYPES = ("early", "on_time", "late", "chronic_late", "deteriorating", "improving")

_TERMS = re.compile(r"^(?:(?P<pct>\d+(?:\.\d+)?)/(?P<days>\d+) )?NET(?P<net>\d+)$")


def parse_terms(code: str) -> tuple[int, float, int]:
    """Net days, discount rate and discount days of a terms code.

    >>> parse_terms("2/10 NET30"), parse_terms("NET45")
    ((30, 0.02, 10), (45, 0.0, 0))
    """
    m = _TERMS.match(code)
    if m is None:
        raise ValueError(f"terms code {code!r} is not NETn or 'p/d NETn'")
    net = int(m["net"])
    if m["pct"] is None:
        return net, 0.0, 0
    return net, float(m["pct"]) / 100, int(m["days"])


def fail(owner: str, name: str, allowed: str, value) -> None:
    raise ValueError(f"{owner}.{name} must be {allowed}, got {value!r}")


def check_number(owner, name, value, lo, hi, *, integer=False) -> None:
    kind = "an integer" if integer else "a number"
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or not (lo <= value <= hi) or value != value:
        fail(owner, name, f"{kind} in [{lo}, {hi}]", value)


def check_pairs(owner, name, pairs, allowed=None, lo=0.0, hi=1.0) -> None:
    if not isinstance(pairs, tuple) or not pairs:
        fail(owner, name, "a non-empty tuple of (code, value) pairs", pairs)
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
            fail(owner, name, "a tuple of (code, value) pairs", pairs)
        if allowed is not None and pair[0] not in allowed:
            fail(owner, name, f"codes from {allowed}", pair[0])
        check_number(owner, f"{name}[{pair[0]!r}]", pair[1], lo, hi)
    codes = [p[0] for p in pairs]
    if len(set(codes)) != len(codes):
        fail(owner, name, "pairs with distinct codes", pairs)


def check_mix(owner, name, mix, allowed=None) -> None:
    check_pairs(owner, name, mix, allowed)
    if not math.isclose(sum(p[1] for p in mix), 1.0, abs_tol=1e-9):
        fail(owner, name, "shares summing to 1", mix)


@dataclass(frozen=True)
class SegmentSpec:
    """Size, terms and payment habits of one customer segment.

    Parameters
    ----------
    name
        Segment code written to ``customers.segment``.
    share
        Share of customers in the segment, in ``[0, 1]``; shares sum to 1.
    invoices_per_month
        Mean invoices per customer per month at the start date, in ``(0, 500]``
        (customers vary around it: lognormal, sigma 0.5).
    amount_median
        Median invoice amount in reporting-currency units, in ``(0, 1e8]``.
    amount_sigma
        Lognormal sigma of invoice amounts, in ``[0, 3]``.
    credit_limit_months
        Credit limit as months of expected sales, in ``[0, 24]``.
    terms
        ``(terms code, share of customers)`` pairs, codes ``NETn`` or ``p/d NETn``.
    methods
        ``(payment method, share of customers)`` pairs: the customer's usual method.
    electronic_share
        Share of customers receiving invoices electronically (else on paper).
    po_share
        Share of customers quoting a purchase-order number on every invoice.
    combine_share
        Share of customers paying several invoices due together in one payment.
    """

    name: str
    share: float
    invoices_per_month: float
    amount_median: float
    amount_sigma: float
    credit_limit_months: float
    terms: tuple[tuple[str, float], ...]
    methods: tuple[tuple[str, float], ...]
    electronic_share: float
    po_share: float
    combine_share: float

    def __post_init__(self) -> None:
        o = f"SegmentSpec({self.name!r})"
        if not (isinstance(self.name, str) and self.name):
            fail("SegmentSpec", "name", "a non-empty string", self.name)
        check_number(o, "share", self.share, 0.0, 1.0)
        check_number(o, "invoices_per_month", self.invoices_per_month, 1e-6, 500.0)
        check_number(o, "amount_median", self.amount_median, 1e-2, 1e8)
        check_number(o, "amount_sigma", self.amount_sigma, 0.0, 3.0)
        check_number(o, "credit_limit_months", self.credit_limit_months, 0.0, 24.0)
        check_mix(o, "terms", self.terms)
        for code, _ in self.terms:
            try:
                net, pct, days = parse_terms(code)
            except ValueError:
                fail(o, "terms", "codes like NET30 or 2/10 NET30", code)
            if not (0 <= net <= 365 and pct < 0.5 and days <= net):
                fail(
                    o, "terms", "net days in [0, 365], discount < 50 %, discount days <= net", code
                )
        check_mix(o, "methods", self.methods, PAYMENT_METHODS)
        for name in ("electronic_share", "po_share", "combine_share"):
            check_number(o, name, getattr(self, name), 0.0, 1.0)


@dataclass(frozen=True)
class BehaviourSpec:
    """How one type of payer pays, relative to the due date.

    Parameters
    ----------
    name
        One of ``early, on_time, late, chronic_late, deteriorating, improving``.
    share
        Share of customers of this type, in ``[0, 1]``; shares sum to 1.
    mean_delay_days
        Average over customers of their mean payment delay after the due date
        at the start date (negative = before due), in ``[-60, 365]`` days.
    spread_days
        Standard deviation of the customer means around it, in ``[0, 120]`` days.
    noise_days
        Standard deviation of one invoice's delay around its customer's mean,
        in ``[0, 120]`` days.
    trend_days_per_year
        Drift of the customer mean per year after the start (positive =
        paying later over time), in ``[-120, 120]``; customers vary ±30 %.
    default_rate
        Share of the customer's invoices never paid in full (candidates for
        write-off), in ``[0, 1]``.
    """

    name: str
    share: float
    mean_delay_days: float
    spread_days: float
    noise_days: float
    trend_days_per_year: float
    default_rate: float

    def __post_init__(self) -> None:
        o = f"BehaviourSpec({self.name!r})"
        if self.name not in BEHAVIOUR_TYPES:
            fail("BehaviourSpec", "name", f"one of {BEHAVIOUR_TYPES}", self.name)
        check_number(o, "share", self.share, 0.0, 1.0)
        check_number(o, "mean_delay_days", self.mean_delay_days, -60.0, 365.0)
        check_number(o, "spread_days", self.spread_days, 0.0, 120.0)
        check_number(o, "noise_days", self.noise_days, 0.0, 120.0)
        check_number(o, "trend_days_per_year", self.trend_days_per_year, -120.0, 120.0)
        check_number(o, "default_rate", self.default_rate, 0.0, 1.0)


DEFAULT_SEGMENTS: tuple[SegmentSpec, ...] = (
    SegmentSpec(
        "enterprise",
        0.10,
        4.0,
        15_000.0,
        0.9,
        2.5,
        terms=(("NET30", 0.20), ("NET45", 0.30), ("NET60", 0.35), ("2/10 NET30", 0.15)),
        methods=(("ach", 0.55), ("wire", 0.40), ("check", 0.05)),
        electronic_share=0.90,
        po_share=0.85,
        combine_share=0.70,
    ),
    SegmentSpec(
        "mid_market",
        0.30,
        1.8,
        4_000.0,
        0.8,
        2.0,
        terms=(
            ("NET15", 0.05),
            ("NET30", 0.50),
            ("NET45", 0.20),
            ("NET60", 0.05),
            ("2/10 NET30", 0.20),
        ),
        methods=(("ach", 0.55), ("wire", 0.10), ("check", 0.30), ("card", 0.05)),
        electronic_share=0.70,
        po_share=0.45,
        combine_share=0.45,
    ),
    SegmentSpec(
        "smb",
        0.60,
        0.7,
        850.0,
        0.7,
        1.5,
        terms=(("NET15", 0.25), ("NET30", 0.55), ("NET45", 0.05), ("2/10 NET30", 0.15)),
        methods=(("ach", 0.35), ("check", 0.40), ("card", 0.25)),
        electronic_share=0.45,
        po_share=0.15,
        combine_share=0.20,
    ),
)

DEFAULT_BEHAVIOURS: tuple[BehaviourSpec, ...] = (
    # name, share, mean_delay_days, spread_days, noise_days, trend_days_per_year, default_rate
    BehaviourSpec("early", 0.12, -6.0, 3.0, 3.0, 0.0, 0.0),
    BehaviourSpec("on_time", 0.38, 1.0, 3.0, 4.0, 0.0, 0.001),
    BehaviourSpec("late", 0.25, 14.0, 6.0, 8.0, 0.0, 0.004),
    BehaviourSpec("chronic_late", 0.10, 45.0, 15.0, 18.0, 0.0, 0.03),
    BehaviourSpec("deteriorating", 0.08, 4.0, 4.0, 6.0, 18.0, 0.01),
    BehaviourSpec("improving", 0.07, 30.0, 8.0, 10.0, -12.0, 0.003),
)

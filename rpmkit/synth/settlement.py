"""How each invoice gets settled: credit notes, disputes, discounts, payments, write-offs.

Each invoice's amount is split into parts that add up to it exactly::

    amount = correction credit + discount + main payment(s) + short-pay
             + dispute credit + disputed amount paid after resolution

and every part gets a date. Parts dated after the ledger's last day are not
recorded, which is what leaves invoices open at the end. Because the parts
partition the amount, no invoice is ever settled beyond its amount, at any date.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from rpmkit import money
from rpmkit.schema import ADJUSTMENT_KINDS
from rpmkit.synth import calendar
from rpmkit.synth.customers import Customers
from rpmkit.synth.params import SynthParams
from rpmkit.synth.sales import Invoices
from rpmkit.synth.specs import parse_terms
from rpmkit.synth.streams import pick, uniform

CREDIT_REASONS = ("cancelled", "price_correction", "returned_goods", "quantity_correction")
DEDUCTION_REASONS = ("freight", "promotion", "pricing", "shortage", "damaged")
FULL_DISPUTE_REASONS = ("not_received", "duplicate_billing")


@dataclass
class Lines:
    """Cash received per invoice: one row per (invoice, payment date)."""

    invoice: np.ndarray
    date: np.ndarray
    applied: np.ndarray  # minor units applied to the invoice
    extra: np.ndarray  # minor units paid beyond what is owed (unapplied cash)
    method: np.ndarray  # index into Customers.methods


@dataclass
class Adjustments:
    invoice: np.ndarray
    date: np.ndarray
    amount: np.ndarray
    kind: np.ndarray  # index into schema.ADJUSTMENT_KINDS
    reason: np.ndarray  # index into reasons
    reasons: tuple[str, ...]


@dataclass
class Disputes:
    invoice: np.ndarray
    opened: np.ndarray
    amount: np.ndarray
    resolved: np.ndarray  # NaT while open at the end
    reason: np.ndarray  # index into params.dispute_reasons
    outcome: np.ndarray  # index into params.dispute_outcomes, -1 while open


@dataclass
class Settlement:
    lines: Lines
    adjustments: Adjustments
    disputes: Disputes


CREDIT, WRITE_OFF, DISCOUNT, DEDUCTION = (
    ADJUSTMENT_KINDS.index(k) for k in ("credit_note", "write_off", "discount", "deduction")
)


def _rint(x) -> np.ndarray:
    return np.rint(x).astype(np.int64)


def _part(total: np.ndarray, share, lo: int = 1) -> np.ndarray:
    """A share of ``total`` in minor units, strictly between 0 and ``total`` when possible."""
    return np.clip(_rint(total * share), lo, np.maximum(total - 1, lo))


def _days(u: np.ndarray, n) -> np.ndarray:
    """Integer days in ``[0, n)`` from uniforms."""
    return (u * n).astype(np.int64)


BLOCK = 1 << 18  # invoices settled at a time; fixed, so draws never depend on the machine


def settle(p: SynthParams, c: Customers, inv: Invoices, rngs) -> Settlement:
    """Decide every invoice's settlement, block by block to bound memory.

    Each block draws one value per invoice from each stream in a fixed order,
    so the result depends only on the parameters (and on ``BLOCK``).
    """
    parts = [
        _settle_block(p, c, inv.block(lo, lo + BLOCK), rngs, lo)
        for lo in range(0, max(inv.n, 1), BLOCK)
    ]
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    return Settlement(
        Lines(*(np.concatenate([getattr(s.lines, f) for s in parts]) for f in _fields(Lines))),
        Adjustments(
            *(
                np.concatenate([getattr(s.adjustments, f) for s in parts])
                for f in _fields(Adjustments)
                if f != "reasons"
            ),
            reasons=first.adjustments.reasons,
        ),
        Disputes(
            *(np.concatenate([getattr(s.disputes, f) for s in parts]) for f in _fields(Disputes))
        ),
    )


def _fields(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def _settle_block(p: SynthParams, c: Customers, inv: Invoices, rngs, offset: int) -> Settlement:
    """Settle one block of invoices; invoice positions in the result are shifted by ``offset``."""
    n, cust, amount = inv.n, inv.customer, inv.amount
    start = calendar.as_day(p.start_date.date())
    end = calendar.as_day(p.end_date.date())
    terms = [parse_terms(code) for code in c.terms_codes]
    net_days = np.array([t[0] for t in terms])[c.terms[cust]]
    disc_rate = np.array([t[1] for t in terms])[c.terms[cust]]
    disc_days = np.array([t[2] for t in terms])[c.terms[cust]]
    scale = 10 ** np.array([money.exponent(code) for code in c.currencies])[c.currency[cust]]

    # --- credits stream: corrections shortly after issue, and write-off decisions.
    r = rngs["credits"]
    u_cn, u_full, u_frac, u_day, u_reason, u_wo, u_wo_day = (uniform(r, n) for _ in range(7))
    full = (u_full < p.credit_note_full_share) | (amount < 2)
    cn_amount = np.where(full, amount, _part(amount, 0.05 + 0.45 * u_frac))
    cn_date = calendar.add_business_days(inv.date, 1 + _days(u_day, 10))
    has_cn = (u_cn < p.credit_note_rate) & (cn_date <= end)
    cn_amount = np.where(has_cn, cn_amount, 0)
    cn_reason = np.where(full, 0, 1 + _days(u_reason, len(CREDIT_REASONS) - 1))
    owed = amount - cn_amount

    # --- delays stream: who never pays, who takes the discount, when the rest is paid.
    r = rngs["delays"]
    u_def, z, u_tail = uniform(r, n), r.standard_normal(n, dtype=np.float32), uniform(r, n)
    e_tail = r.standard_exponential(n, dtype=np.float32)
    u_disc, u_disc_day, u_switch, u_pick = (uniform(r, n) for _ in range(4))
    default = (u_def < c.default_rate[cust]) & (owed > 0)

    used = sorted({c.methods.index(m) for s in p.segments for m, _ in s.methods})
    usual = c.method[cust]
    other = np.array(used)[_days(u_pick, len(used))]
    method = np.where((u_switch < p.method_switch_rate) & (len(used) > 1), other, usual)
    method_days = np.array([d for _, d in p.method_delay_days])[method]
    years = (inv.date - start).astype(np.int64) / 365.25
    delay = (
        c.mean_delay[cust]
        + c.trend[cust] * years
        + method_days
        + c.delay_sd[cust] * z
        + np.where(u_tail < p.heavy_tail_rate, p.heavy_tail_mean_days * e_tail, 0.0)
    )
    del z, e_tail, u_tail, years, method_days
    # Transfers are scheduled on business days; cheques arrive any day and are
    # banked on the next business day (weekend mail lands on Monday).
    check = np.asarray(c.methods)[method] == "check"
    by_mail = inv.due + _rint(delay)
    scheduled = calendar.add_business_days(inv.due, _rint(delay * 5 / 7))
    pay = np.maximum(np.where(check, by_mail, scheduled), inv.date + 1)
    del delay, by_mail, scheduled
    runs, weekday = c.pay_run[cust], c.run_weekday[cust]
    pay = calendar.pay_run(pay, runs, weekday)

    # --- disputes stream.
    r = rngs["disputes"]
    u_flag, u_dreason, u_dfrac, u_open, u_out, u_acc, u_lag = (uniform(r, n) for _ in range(7))
    z_res = r.standard_normal(n, dtype=np.float32)
    reason = pick(u_dreason, [s for _, s in p.dispute_reasons])
    full_codes = [
        i for i, (code, _) in enumerate(p.dispute_reasons) if code in FULL_DISPUTE_REASONS
    ]
    whole = np.isin(reason, full_codes) | (owed < 2)
    disputed_amount = np.where(whole, owed, _part(owed, 0.1 + 0.5 * u_dfrac))
    opened = calendar.forward(inv.date + 2 + _days(u_open, net_days + 20))
    disputed = (u_flag < p.dispute_rate) & (owed > 0) & ~default & (opened <= end)
    res_days = np.maximum(
        1, _rint(p.dispute_resolution_median_days * np.exp(p.dispute_resolution_sigma * z_res))
    )
    resolved = calendar.forward(opened + res_days)
    resolved_ok = disputed & (resolved <= end)
    outcome = pick(u_out, [s for _, s in p.dispute_outcomes])
    codes = [code for code, _ in p.dispute_outcomes]
    credited = np.zeros(n, dtype=np.int64)
    if "credit_note" in codes:
        credited = np.where(outcome == codes.index("credit_note"), disputed_amount, credited)
    if "partially_accepted" in codes:
        partly = _part(disputed_amount, 0.2 + 0.6 * u_acc)
        credited = np.where(outcome == codes.index("partially_accepted"), partly, credited)
    credited = np.where(resolved_ok, credited, 0)
    after_dispute = np.where(resolved_ok, disputed_amount - credited, 0)
    after_date = calendar.pay_run(resolved + 2 + _days(u_lag, 14), runs, weekday)
    disputed_amount = np.where(disputed, disputed_amount, 0)

    # --- discounts (delays stream draws above).
    takes = (
        c.discount_taker[cust]
        & (disc_rate > 0)
        & (u_disc < p.discount_take_rate)
        & ~default
        & ~disputed
        & (owed > 0)
    )
    discount = np.where(takes, _rint(owed * disc_rate), 0)
    disc_date = calendar.backward(inv.date + 1 + _days(u_disc_day, np.maximum(disc_days, 1)))
    disc_date = np.where(disc_date <= inv.date, calendar.forward(inv.date + 1), disc_date)
    # A customer pays a corrected invoice after the correction arrives.
    disc_date = np.where(
        has_cn, np.maximum(disc_date, calendar.add_business_days(cn_date, 1)), disc_date
    )

    # --- partials stream: instalments, short-pays, overpayments, partial defaults.
    r = rngs["partials"]
    u_kind, u_pfrac, u_gap, u_ded, u_ded_day, u_over, u_over_frac, u_some, u_dreason2 = (
        uniform(r, n) for _ in range(9)
    )
    payable = owed - discount - disputed_amount
    plain = ~takes & ~default & ~disputed & (payable >= 2)
    partial = plain & (u_kind < p.partial_payment_rate)
    short = plain & ~partial & (u_kind < p.partial_payment_rate + p.short_pay_rate)
    first = np.clip(
        _rint(payable * (0.3 + 0.4 * u_pfrac) / scale) * scale, 1, np.maximum(payable - 1, 1)
    )
    second_date = calendar.pay_run(pay + 10 + _days(u_gap, 50), runs, weekday)
    short_by = np.where(short, _part(payable, 0.005 + 0.075 * u_pfrac), 0)
    ded_date = calendar.add_business_days(pay, 3 + _days(u_ded_day, 25))
    booked = short & (u_ded < p.short_pay_deduction_share)
    pays_some = default & (u_some < 0.3) & (payable >= 2)
    first_default = _part(payable, 0.2 + 0.4 * u_pfrac)

    main = np.select(
        [takes, partial, short, pays_some, default],
        [owed - discount, first, payable - short_by, first_default, 0],
        payable,
    )
    main_date = np.where(takes, disc_date, pay)
    main_ok = (main > 0) & (main_date <= end)
    over = main_ok & (u_over < p.overpayment_rate)
    extra = np.where(over, np.maximum(1, _rint(amount * (0.001 + 0.049 * u_over_frac))), 0)

    # --- write-offs of what will never be paid (credits stream draws above).
    never = np.where(default, payable - np.where(pays_some, first_default, 0), 0)
    never = never + np.where(short & ~booked, short_by, 0)
    last = np.where(pays_some | short, pay, inv.due)
    wo_base = np.maximum(inv.due + p.write_off_age_days, last + 30) + _days(u_wo_day, 20)
    wo_date = calendar.month_end_business_day(wo_base)
    write_off = (never > 0) & (u_wo < p.write_off_probability) & (wo_date <= end)

    lines = _concat_lines(
        (main_ok, main_date, main, extra),
        (partial & (second_date <= end), second_date, payable - first, 0),
        ((after_dispute > 0) & (after_date <= end), after_date, after_dispute, 0),
        method=method,
    )
    reasons = (
        *CREDIT_REASONS,
        *(f"dispute_{code}" for code, _ in p.dispute_reasons),
        "early_payment_discount",
        *DEDUCTION_REASONS,
        "uncollectible",
        "small_balance",
    )
    k_dispute = len(CREDIT_REASONS)
    k_discount = k_dispute + len(p.dispute_reasons)
    k_writeoff = k_discount + 1 + len(DEDUCTION_REASONS)
    adjustments = _concat_adjustments(
        reasons,
        (has_cn, cn_date, cn_amount, CREDIT, cn_reason),
        (credited > 0, resolved, credited, CREDIT, k_dispute + reason),
        ((discount > 0) & (disc_date <= end), disc_date, discount, DISCOUNT, k_discount),
        (
            booked & (ded_date <= end),
            ded_date,
            short_by,
            DEDUCTION,
            k_discount + 1 + _days(u_dreason2, len(DEDUCTION_REASONS)),
        ),
        (write_off, wo_date, never, WRITE_OFF, k_writeoff + ~default),
    )
    idx = np.flatnonzero(disputed)
    disputes = Disputes(
        invoice=idx + offset,
        opened=opened[idx],
        amount=disputed_amount[idx],
        resolved=np.where(resolved_ok[idx], resolved[idx], np.datetime64("NaT")),
        reason=reason[idx],
        outcome=np.where(resolved_ok[idx], outcome[idx], -1),
    )
    lines.invoice += offset
    adjustments.invoice += offset
    return Settlement(lines, adjustments, disputes)


def _concat_lines(*slots, method: np.ndarray) -> Lines:
    parts = []
    for mask, date, applied, extra in slots:
        idx = np.flatnonzero(mask)
        parts.append(
            (
                idx,
                date[idx],
                applied[idx],
                np.broadcast_to(extra, mask.shape)[idx],
                method[idx],
            )
        )
    cols = [np.concatenate(col) for col in zip(*parts, strict=True)]
    return Lines(*cols)


def _concat_adjustments(reasons: tuple[str, ...], *slots) -> Adjustments:
    parts = []
    for mask, date, amount, kind, reason in slots:
        idx = np.flatnonzero(mask)
        reason = np.broadcast_to(reason, mask.shape)[idx]
        parts.append((idx, date[idx], amount[idx], np.full(len(idx), kind), reason))
    cols = [
        np.concatenate(col).astype(np.int64) if i in (2, 3, 4) else np.concatenate(col)
        for i, col in enumerate(zip(*parts, strict=True))
    ]
    return Adjustments(*cols, reasons=reasons)

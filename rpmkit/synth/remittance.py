"""Payer names and remittance texts as banks deliver them, with recorded noise.

Each payment's text lists the invoices it pays in the customer's habitual
style (``INV-000123``, ``INV000123``, ``000123``, ``INV 000123``), then
noise is applied at known rates. ``truth["payments"]`` records which noise
each payment received, so cash-application methods can be scored by type.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rpmkit import money
from rpmkit.synth import text
from rpmkit.synth.customers import PAYER_STYLES, Customers, bank_names, names
from rpmkit.synth.params import SynthParams
from rpmkit.synth.payments import Payments
from rpmkit.synth.sales import Invoices
from rpmkit.synth.streams import uniform

NOISE_TYPES = (
    "payer_name",
    "typo",
    "missing_reference",
    "extra_reference",
    "leading_zeros",
    "po_reference",
    "multi_reference",
    "truncated",
)
LEADS = ("", "", "PMT ", "RE: ", "Payment ", "Remit ")
SEPARATORS = (", ", " ", ";", " / ")
GENERIC = {
    "ach": "ACH CREDIT",
    "wire": "WIRE TRANSFER",
    "check": "CHECK DEPOSIT",
    "card": "CARD SETTLEMENT",
    "other": "PAYMENT",
}
MAX_TEXT = 140  # characters of remittance information in a SEPA / ACH addenda record
_KEEP_STYLE = 0.85  # a customer's bank name varies between payments now and then


def _mistype(number: np.ndarray, u_pos: np.ndarray, u_digit: np.ndarray) -> np.ndarray:
    """Change one digit of each number (never to the same number)."""
    ndigits = np.floor(np.log10(np.maximum(number, 1))).astype(np.int64) + 1
    pos = (u_pos * ndigits).astype(np.int64)
    power = 10**pos
    digit = (number // power) % 10
    new_digit = (digit + 1 + (u_digit * 9).astype(np.int64)) % 10
    out = number + (new_digit - digit) * power
    return np.where((out < 1) | (out == number), number + power, out)


def _refs(numbers, style, strip, width, po_text=None, use_po=None) -> pa.Array:
    """Invoice references in each payment's style; ``strip`` drops leading zeros."""
    padded = text.where(strip, text.digits(numbers), text.digits(numbers, width))
    prefix = text.take(("INV-", "INV", "", "INV "), style)
    out = text.join(prefix, padded)
    if po_text is not None:
        out = text.where(use_po, po_text, out)
    return out


BLOCK = 1 << 18  # payments handled at a time; fixed, so draws never depend on the machine


def remittance(
    p: SynthParams, c: Customers, inv: Invoices, pay: Payments, rng: np.random.Generator
) -> tuple[pa.ChunkedArray, pa.ChunkedArray, pd.DataFrame]:
    """``(payer_name, remittance_text, truth)`` for every payment, block by block."""
    master, variants = names(c), bank_names(c)
    blocks = [
        _block(p, c, inv, pay.block(lo, lo + BLOCK), rng, master, variants)
        for lo in range(0, max(pay.n, 1), BLOCK)
    ]
    payer = pa.chunked_array([b[0] for b in blocks], type=pa.string())
    remit = pa.chunked_array([b[1] for b in blocks], type=pa.string())
    style = np.concatenate([b[2] for b in blocks])
    flags = {name: np.concatenate([b[3][name] for b in blocks]) for name in NOISE_TYPES}
    return payer, remit, _truth(c, pay, style, flags)


def _block(p, c, inv, pay: Payments, rng, master, variants):
    n = pay.n
    u_keep, u_missing, u_generic, u_typo, u_pos, u_digit = (uniform(rng, n) for _ in range(6))
    u_extra, u_extra_k, u_zeros, u_po, u_lead, u_sep = (uniform(rng, n) for _ in range(6))

    # Payer names.
    style = np.where(u_keep < _KEEP_STYLE, c.payer_style[pay.customer], 0)
    payer = text.rows(master, pay.customer)
    for k, variant in enumerate(variants, start=1):
        payer = text.where(style == k, text.rows(variant, pay.customer), payer)

    # References, one per allocation, in the payment's style.
    width = text.id_width(inv.n, 6)
    counts = np.diff(np.append(pay.start, len(pay.alloc_invoice)))
    row_pay = pay.alloc_payment
    first_row = np.zeros(len(row_pay), dtype=bool)
    first_row[pay.start[counts > 0]] = True
    number = pay.alloc_invoice + 1
    typo = u_typo < p.typo_rate
    number = np.where(
        first_row & typo[row_pay], _mistype(number, u_pos[row_pay], u_digit[row_pay]), number
    )
    use_po = (c.po_style[pay.customer] > 0) & (u_po < p.po_reference_rate)
    strip = u_zeros < p.leading_zeros_rate
    ref_style = c.ref_style[pay.customer]
    po_text = text.join(
        text.where(c.po_style[inv.customer[pay.alloc_invoice]] == 2, "PO-", "PO "),
        text.digits(np.maximum(inv.po[pay.alloc_invoice], 0)),
    )
    refs = _refs(number, ref_style[row_pay], strip[row_pay], width, po_text, use_po[row_pay])
    offsets = pa.array(np.append(pay.start, len(row_pay)).astype(np.int32))
    sep = text.take(SEPARATORS, (u_sep * len(SEPARATORS)).astype(np.int64))
    listed = pc.binary_join(pa.ListArray.from_arrays(offsets, refs), sep)

    extra = u_extra < p.extra_reference_rate
    last = pay.alloc_invoice[np.maximum(pay.start + counts - 1, 0)] + 1
    k = 1 + (u_extra_k * 40).astype(np.int64)
    other = np.where(last + k <= inv.n, last + k, np.maximum(last - k, 1))
    extra_ref = _refs(other, ref_style, strip, width)
    listed = text.where(extra, text.join(listed, extra_ref, sep=" "), listed)
    lead = text.take(LEADS, (u_lead * len(LEADS)).astype(np.int64))
    full = text.join(lead, listed)
    too_long = np.asarray(pc.greater(pc.utf8_length(full), MAX_TEXT))
    full = pc.utf8_slice_codeunits(full, 0, MAX_TEXT)

    missing = u_missing < p.missing_reference_rate
    generic = text.take([GENERIC[m] for m in c.methods], pay.method)
    blank = text.where(u_generic < 0.5, generic, pa.scalar(None, pa.string()))
    remit = text.where(missing, blank, full)

    flags = {
        "payer_name": style > 0,
        "typo": typo & ~missing & ~use_po,
        "missing_reference": missing,
        "extra_reference": extra & ~missing,
        "leading_zeros": strip & ~missing & ~use_po,
        "po_reference": use_po & ~missing,
        "multi_reference": (counts > 1) & ~missing,
        "truncated": too_long & ~missing,
    }
    return payer, remit, style, flags


def _truth(c, pay, style, flags) -> pd.DataFrame:
    # Few distinct combinations of flags occur: label each combination once.
    names = list(flags)
    code = np.zeros(pay.n, dtype=np.int64)
    for bit, name in enumerate(names):
        code |= flags[name].astype(np.int64) << bit
    combos, index = np.unique(code, return_inverse=True)
    labels = [
        "|".join(n for b, n in enumerate(names) if combo >> b & 1) or "none" for combo in combos
    ]
    noise = text.take(labels, index)
    return pd.DataFrame(
        {
            "payment_id": text.series(pay.ids),
            "customer_id": text.series(text.rows(c.ids, pay.customer)),
            "n_invoices": np.diff(np.append(pay.start, len(pay.alloc_invoice))),
            "unapplied": _amounts(pay.unapplied, c.currency[pay.customer], c.currencies),
            "payer_name_style": text.series(text.take(PAYER_STYLES, style)),
            **{name: flag for name, flag in flags.items()},
            "noise": text.series(noise),
        }
    )


def _amounts(minor: np.ndarray, cur: np.ndarray, currencies: tuple[str, ...]) -> pd.Series:
    """Decimal text of mostly-zero amounts: format the non-zero ones only."""
    zeros = ["0." + "0" * e if e else "0" for e in map(money.exponent, currencies)]
    out = text.take(zeros, cur).to_numpy(zero_copy_only=False).astype(object)
    nonzero = np.flatnonzero(minor)
    if len(nonzero):
        codes = text.series(text.take(currencies, cur[nonzero]))
        out[nonzero] = money.format_amounts(pd.Series(minor[nonzero]), codes).to_numpy(object)
    return text.series(out)

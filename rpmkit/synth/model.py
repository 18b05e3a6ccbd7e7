"""One synthetic ledger from one :class:`SynthParams`: draw, settle, assemble."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from rpmkit.ledger import Ledger
from rpmkit.schema import ADJUSTMENT_KINDS
from rpmkit.synth import text
from rpmkit.synth.activities import activities
from rpmkit.synth.customers import customers_frame, draw_customers, truth_frame
from rpmkit.synth.fx import fx_rates
from rpmkit.synth.params import SynthParams
from rpmkit.synth.payments import Payments, group_payments
from rpmkit.synth.remittance import remittance
from rpmkit.synth.sales import draw_invoices, invoices_frame
from rpmkit.synth.settlement import Settlement, settle
from rpmkit.synth.streams import streams


@dataclass(frozen=True, eq=False)
class SynthResult:
    """A synthetic ledger and the hidden truth it was generated from.

    Attributes
    ----------
    ledger
        The :class:`rpmkit.ledger.Ledger`; its ``allocations`` table is the
        ground-truth cash application.
    truth
        ``customers``: per-customer behaviour (type, mean delay after due at
        the start in days, trend in days per year, discount taker, pay run,
        default rate, …); ``payments``: per-payment noise applied to payer
        name and remittance text, invoices paid and unapplied cash.
    params
        The parameters used.
    """

    ledger: Ledger
    truth: dict[str, pd.DataFrame]
    params: SynthParams = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """Rows and date range per ledger table."""
        return self.ledger.summary()

    def __repr__(self) -> str:
        p = self.params
        return (
            f"SynthResult(customers={p.customers:,}, years={p.years:g}, seed={p.seed}; "
            f"{self.ledger!r})"
        )


def generate(params: SynthParams | None = None, **overrides) -> SynthResult:
    """Generate a deterministic synthetic B2B receivables ledger.

    Parameters
    ----------
    params
        Generator settings; :class:`SynthParams` defaults when omitted.
    **overrides
        Fields of :class:`SynthParams` to replace, e.g. ``customers=50``.

    Returns
    -------
    SynthResult
        ``.ledger`` (a :class:`~rpmkit.ledger.Ledger`) and ``.truth``.

    Examples
    --------
    >>> from rpmkit.synth import generate
    >>> result = generate(customers=12, years=0.5, seed=7)
    >>> result.ledger.check()
    >>> len(result.ledger.invoices), len(result.ledger.payments)
    (40, 28)
    >>> inv, pay = result.ledger.invoices, result.ledger.payments
    >>> inv[["invoice_id", "customer_id", "invoice_date", "amount", "terms"]].head(3)
       invoice_id customer_id invoice_date  amount       terms
    0  INV-000001       C0003   2023-01-06  296204  2/10 NET30
    1  INV-000002       C0006   2023-01-23  202104       NET30
    2  INV-000003       C0010   2023-01-23  141399       NET15
    >>> pay[["payment_id", "payment_date", "amount", "remittance_text"]].head(3)
        payment_id payment_date  amount    remittance_text
    0  PAY-0000001   2023-02-10  296204                NaN
    1  PAY-0000002   2023-02-20  141399  Payment INV000003
    2  PAY-0000003   2023-02-28  202104   Remit INV 000002
    >>> truth = result.truth["customers"]
    >>> truth[["customer_id", "segment", "behaviour", "mean_delay_days"]].head(2)
      customer_id     segment      behaviour  mean_delay_days
    0       C0001  mid_market  deteriorating            -0.31
    1       C0002         smb          early            -7.60
    >>> sorted(result.truth)
    ['customers', 'payments']
    >>> generate(customers=12, years=0.5, seed=7).ledger.payments.equals(result.ledger.payments)
    True
    """
    params = params if params is not None else SynthParams()
    if overrides:
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(SynthParams)})
        if unknown:
            raise TypeError(f"generate() got unknown SynthParams field(s): {', '.join(unknown)}")
        params = dataclasses.replace(params, **overrides)
    rngs = streams(params.seed)
    cust = draw_customers(params, rngs["customers"])
    inv = draw_invoices(params, cust, rngs["sales"], rngs["amounts"])
    settlement = settle(params, cust, inv, rngs)
    pay = group_payments(settlement.lines, inv, cust)
    payer, remit, pay_truth = remittance(params, cust, inv, pay, rngs["remittance"])
    ledger = Ledger(
        customers=customers_frame(cust, params),
        invoices=invoices_frame(inv, cust),
        payments=_payments_frame(cust, pay, payer, remit),
        allocations=_allocations_frame(inv, pay),
        adjustments=_adjustments_frame(inv, settlement),
        disputes=_disputes_frame(params, inv, settlement),
        activities=activities(params, cust, inv, settlement, rngs["activities"]),
        fx_rates=fx_rates(params, rngs["fx"]),
        reporting_currency=params.reporting_currency,
    )
    truth = {"customers": truth_frame(cust, params), "payments": pay_truth}
    return SynthResult(ledger=ledger, truth=truth, params=params)


def _payments_frame(cust, pay: Payments, payer, remit) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "payment_id": text.series(pay.ids),
            "payment_date": text.dates(pay.date),
            "amount": pay.amount,
            "currency": text.series(text.take(cust.currencies, cust.currency[pay.customer])),
            "customer_id": text.series(text.rows(cust.ids, pay.customer)),
            "payer_name": text.series(payer),
            "method": text.series(text.take(cust.methods, pay.method)),
            "remittance_text": text.series(remit),
        }
    )


def _allocations_frame(inv, pay: Payments) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "payment_id": text.series(text.rows(pay.ids, pay.alloc_payment)),
            "invoice_id": text.series(text.rows(inv.ids, pay.alloc_invoice)),
            "amount": pay.alloc_amount,
            "applied_date": text.dates(pay.date[pay.alloc_payment]),
        }
    )


def _adjustments_frame(inv, s: Settlement) -> pd.DataFrame:
    a = s.adjustments
    order = np.lexsort((a.invoice, a.kind, a.date))
    kind = a.kind[order]
    prefixes = {"credit_note": "CN-", "write_off": "WO-", "discount": "DSC-", "deduction": "DED-"}
    number = np.zeros(len(order), dtype=np.int64)
    ids = text.take([""], np.zeros(len(order), dtype=np.int64))
    for k, name in enumerate(ADJUSTMENT_KINDS):
        m = kind == k
        number[m] = np.arange(1, int(m.sum()) + 1)
        width = text.id_width(int(m.sum()), 6)
        ids = text.where(m, text.ids(prefixes[name], number, width), ids)
    return pd.DataFrame(
        {
            "adjustment_id": text.series(ids),
            "invoice_id": text.series(text.rows(inv.ids, a.invoice[order])),
            "date": text.dates(a.date[order]),
            "amount": a.amount[order],
            "kind": text.series(text.take(ADJUSTMENT_KINDS, kind)),
            "reason": text.series(text.take(a.reasons, a.reason[order])),
        }
    )


def _disputes_frame(p: SynthParams, inv, s: Settlement) -> pd.DataFrame:
    d = s.disputes
    order = np.lexsort((d.invoice, d.opened))
    n = len(order)
    return pd.DataFrame(
        {
            "dispute_id": text.series(text.ids("DSP-", np.arange(1, n + 1), text.id_width(n, 5))),
            "invoice_id": text.series(text.rows(inv.ids, d.invoice[order])),
            "opened_date": text.dates(d.opened[order]),
            "amount": d.amount[order],
            "resolved_date": text.dates(d.resolved[order]),
            "reason_code": text.series(
                text.take([c for c, _ in p.dispute_reasons], d.reason[order])
            ),
            "outcome": text.series(text.take([c for c, _ in p.dispute_outcomes], d.outcome[order])),
        }
    )


def write_truth(result: SynthResult, path: str | os.PathLike) -> list[Path]:
    """Write ``result.truth`` as CSV files ``<name>.csv`` into ``path`` (created if needed).

    Same conventions as the ledger files: UTF-8, ``\n`` line ends, booleans
    ``true``/``false``, money as decimal text, blanks for missing values; the
    same result always gives the same bytes. Returns the files written.

    Examples
    --------
    >>> import tempfile
    >>> from rpmkit.synth import generate, write_truth
    >>> files = write_truth(generate(customers=5, years=0.25), tempfile.mkdtemp())
    >>> [f.name for f in files]
    ['customers.csv', 'payments.csv']
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in sorted(result.truth.items()):
        out = frame.copy()
        for col in out.columns:
            if pd.api.types.is_bool_dtype(out[col].dtype):
                out[col] = np.where(out[col].to_numpy(), "true", "false")
        target = folder / f"{name}.csv"
        out.to_csv(target, index=False, lineterminator="\n")
        written.append(target)
    return written

"""Tiny hand-checkable simulator set-ups shared by the simulator's test files."""

from __future__ import annotations

import pandas as pd

from rpmkit.sim import (
    Behaviour,
    Collections,
    Collectors,
    Disputes,
    Model,
    PayerBehaviour,
    Scenario,
    SegmentSales,
)
from rpmkit.sim.records import SimResult

START = pd.Timestamp("2025-01-01")

# One open invoice at the start, issued 20 days before it and due on day 10.
OPENING = pd.DataFrame(
    {
        "invoice_id": ["INV-1"],
        "customer_id": ["C1"],
        "segment": ["smb"],
        "invoice_date": [START - pd.Timedelta(days=20)],
        "due_date": [START + pd.Timedelta(days=10)],
        "amount": [50_000],
    }
)


def one_payer(
    delay: float,
    *,
    horizon: int = 60,
    dunning=(),
    collectors: Collectors | None = None,
    sales: dict | None = None,
    **sections,
) -> Scenario:
    """One ``smb`` segment with no new sales to speak of, a payer ``delay`` days late with
    no spread, no disputes and no escalation; ``sections`` set the other fields."""
    seg = dict(name="smb", customers=1, invoices_per_day=1e-9, amount_mean=100.0) | (sales or {})
    return Scenario(
        horizon_days=horizon,
        start=str(START.date()),
        sales=(SegmentSales(**seg),),
        behaviour=Behaviour(segments=(PayerBehaviour("smb", delay, 0.0, 30, 1.0, 0.0),)),
        dunning=dunning,
        collectors=collectors or Collectors(count=0),
        disputes=Disputes(rate=0.0),
        collections=Collections(agency_after_days=None, write_off_after_days=None),
        **sections,
    )


def run_walked(s: Scenario, replication: int, walk: bool, opening=None) -> SimResult:
    """One replication, with the walk before the loop (``walk``) or every invoice in it."""
    m = Model(s, replication, opening=opening)
    m.presettle = walk
    return m.run()

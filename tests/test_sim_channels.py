"""Invoice channels and payment methods in the simulator: fees, float, shifts, calibration."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sim_support import OPENING, START, one_payer

from rpmkit import cli
from rpmkit.sim import (
    Behaviour,
    Model,
    PayerBehaviour,
    Scenario,
)
from rpmkit.sim.calibrate import calibrate
from rpmkit.sim.calibrate_channels import channel_effects
from rpmkit.sim.levers import Channels, PaymentMethod, PromiseKeeping, Promises
from rpmkit.synth import BehaviourSpec, SynthParams, generate

ROOT = Path(__file__).resolve().parents[1]
IBM = ROOT.parent / "shared" / "datasets" / "ibm-ar" / "WA_Fn-UseC_-Accounts-Receivable.csv"


def _quiet(channels: Channels, horizon=60, **sales) -> Scenario:
    """No dunning, calls, disputes or escalation: payments are the behaviour draws."""
    return one_payer(7.0, horizon=horizon, sales=sales, channels=channels)


def test_fee_float_and_method_of_one_payment_by_hand():
    check = PaymentMethod("check", 1.0, fee_rate=0.01, fee_fixed=2.0, float_days=3.0)
    s = _quiet(Channels(electronic_share=1.0, methods=(check,)))
    r = Model(s, opening=OPENING).run()
    # paid 7 days after due (day 17): fee 1 % of 500.00 + 2.00 = 7.00; cash on day 20
    d = r.daily
    assert d["receipts"].iloc[17] == 50_000 and d["receipts"].sum() == 50_000
    assert d["fees"].iloc[17] == 700 and d["fees"].sum() == 700
    assert d["cash_available"].iloc[20] == 50_000 and d["cash_available"].sum() == 50_000
    led = r.ledger
    assert led.payments["method"].tolist() == ["check"]
    assert led.invoices["channel"].tolist() == ["electronic"]
    assert led.payments["payment_date"].tolist() == [START + pd.Timedelta(days=17)]
    led.check()


def test_channels_off_leaves_the_ledger_blank_and_cash_on_the_payment_day():
    r = Model(_quiet(Channels()), opening=OPENING).run()
    assert r.ledger.payments["method"].isna().all() and r.ledger.invoices["channel"].isna().all()
    assert (r.daily["fees"] == 0).all() and r.daily["cash_available"].equals(r.daily["receipts"])


MIX = (
    PaymentMethod("ach", 0.5, fee_fixed=0.3, float_days=1.0),
    PaymentMethod("check", 0.5, fee_fixed=1.5, float_days=3.0, delay_days=4.0),
)
BUSY = dict(customers=400, invoices_per_day=60.0, amount_mean=1000.0)


@pytest.fixture(scope="module")
def paper_vs_electronic():
    ch = Channels(electronic_share=0.5, paper_delay_days=6.0, methods=MIX)
    base = dataclasses.replace(
        _quiet(ch, horizon=400, **BUSY),
        behaviour=Behaviour(segments=(PayerBehaviour("smb", 7.0, 8.0, 30, 1.0, 0.0),)),
    )
    moved = dataclasses.replace(base, channels=dataclasses.replace(ch, move_to_electronic=0.5))
    return base, Model(base).run(), Model(moved).run()


def test_moving_paper_customers_moves_exactly_their_payments(paper_vs_electronic):
    base, a, b = paper_vs_electronic
    inv = a.ledger.invoices.set_index("invoice_id")["channel"]
    inv_b = b.ledger.invoices.set_index("invoice_id")["channel"]
    moved = ((inv == "paper") & (inv_b == "electronic")).to_numpy()
    assert not ((inv == "electronic") & (inv_b == "paper")).any()  # nobody moves back
    share = moved.sum() / (inv == "paper").sum()
    assert abs(share - 0.5) < 0.08  # half of the paper customers (400 customers in all)
    diff = b.orders["natural_time"].to_numpy() - a.orders["natural_time"].to_numpy()
    early = a.orders["natural_time"].to_numpy() - 6.0 > a.orders["issue_time"].to_numpy()
    np.testing.assert_allclose(diff[moved & early], -6.0, atol=1e-9)
    np.testing.assert_allclose(diff[~moved], 0.0, atol=1e-9)


def test_calibration_recovers_the_simulated_shifts(paper_vs_electronic):
    base, a, _ = paper_vs_electronic
    fx = channel_effects(a.ledger, base.end_date)
    assert abs(fx["electronic_share"] - 0.5) < 0.1
    assert abs(fx["paper_delay_days"] - 6.0) < 0.6
    share, check = fx["methods"]["check"]
    assert abs(share - 0.5) < 0.02
    # the method effect is measured against the segment's mix: ach −2, check +2
    assert abs(check - 2.0) < 0.6 and abs(fx["methods"]["ach"][1] + 2.0) < 0.6
    # the same through from_ledger, fees and float kept from the base
    s = calibrate(a.ledger, base.end_date, base=base, horizon_days=30, promises=False)
    assert abs(s.channels.paper_delay_days - 6.0) < 0.6
    methods = {m.name: m for m in s.channels.methods}
    assert methods["check"].float_days == 3.0 and methods["ach"].fee_fixed == 0.3


def test_mean_days_to_pay_paper_minus_electronic_is_the_shift(paper_vs_electronic):
    _, a, b = paper_vs_electronic
    from rpmkit.sim.channels import channel_summary

    t = channel_summary(a).reset_index()
    mean = t.groupby("channel").apply(lambda g: np.average(g["mean_days"], weights=g["payments"]))
    assert abs(mean["paper"] - mean["electronic"] - 6.0) < 0.5
    fees = a.daily["fees"].sum() / 100
    n = t.groupby("method")["payments"].sum()
    assert fees == pytest.approx(0.3 * n["ach"] + 1.5 * n["check"])
    # the move to e-invoicing shortens days to pay: half the paper share × 6 days
    days = lambda r: (  # noqa: E731
        r.orders["settled_time"] - r.orders["issue_time"]
    ).mean()
    assert days(a) - days(b) == pytest.approx(6.0 * 0.5 * 0.5, abs=0.35)


CLEAN = SynthParams(
    customers=800,
    years=1,
    behaviours=(BehaviourSpec("late", 1.0, 10.0, 2.0, 6.0, 0.0, 0.0),),
    new_customer_share=0.0,
    annual_growth=0.0,
    seasonality_amplitude=0.0,
    discount_taker_share=0.0,
    weekly_pay_run_share=0.0,
    month_end_pay_run_share=0.0,
    heavy_tail_rate=0.0,
    method_delay_days=(("ach", 0.0), ("wire", 0.0), ("card", -2.0), ("check", 5.0), ("other", 0.0)),
    partial_payment_rate=0.0,
    short_pay_rate=0.0,
    credit_note_rate=0.0,
    foreign_currency_share=0.0,
)


def test_generated_ledger_methods_and_no_channel_effect():
    led = generate(CLEAN).ledger
    labels = led.invoices["customer_id"].map(led.customers.set_index("customer_id")["segment"])
    fx = channel_effects(led, "2023-12-31", labels=labels.to_numpy(dtype=object))
    m = {k: v[1] for k, v in fx["methods"].items()}
    # the generator: cheques 5 days later than ACH, cards 2 earlier; the channel has no effect
    assert abs(m["check"] - m["ach"] - 5.0) < 1.5
    assert abs(m["card"] - m["ach"] + 2.0) < 1.5
    assert abs(fx["paper_delay_days"]) < 1.5


@pytest.mark.skipif(not IBM.exists(), reason="IBM AR sample not present")
def test_ibm_paper_bills_are_paid_later():
    import rpmkit

    led = rpmkit.load(IBM, preset="ibm-ar").ledger
    fx = channel_effects(led, "2013-12-31")
    raw = pd.read_csv(IBM)
    for c in ("InvoiceDate", "DueDate", "SettledDate"):
        raw[c] = pd.to_datetime(raw[c], format="%m/%d/%Y")
    w = raw[(raw["InvoiceDate"] > "2012-12-31") & (raw["InvoiceDate"] <= "2013-12-31")]
    late = (w["SettledDate"] - w["DueDate"]).dt.days.groupby(w["PaperlessBill"]).mean()
    assert fx["channel_invoices"] == len(w)
    assert fx["electronic_share"] == pytest.approx((w["PaperlessBill"] == "Electronic").mean())
    assert 4.0 < fx["paper_delay_days"] < 10.0
    assert abs(fx["paper_delay_days"] - (late["Paper"] - late["Electronic"])) < 0.5


def test_yaml_round_trip_and_validation(tmp_path):
    s = Scenario.from_yaml(ROOT / "scenarios" / "e_invoicing.yaml")
    assert s.channels.move_to_electronic == 0.5 and len(s.channels.methods) == 4
    assert Scenario.from_yaml(Path(s.to_yaml(tmp_path / "x.yaml") and tmp_path / "x.yaml")) == s
    with pytest.raises(ValueError, match="Channels.methods must be shares summing to 1"):
        Channels(methods=(PaymentMethod("ach", 0.5),))
    with pytest.raises(ValueError, match=r"Scenario.promises.segments must be kept rates"):
        dataclasses.replace(
            Scenario(), promises=Promises(rate=0.1, segments=(PromiseKeeping("nope", 0.5),))
        )
    with pytest.raises(ValueError, match=r"Promises.follow_up must be one of"):
        Promises(follow_up="letter")


def test_cli_simulate_e_invoicing_yaml(capsys):
    argv = ["simulate", "scenarios/e_invoicing.yaml", "--replications", "2", "--format", "json"]
    assert cli.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scenario"]["channels"]["move_to_electronic"] == 0.5
    assert out["kpis"]["cash_collected"]["mean"] > 0

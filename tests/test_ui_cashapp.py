"""Headless tests of the cash-application app: build it, move its controls, read what changed."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import rpmkit.io as rio
from rpmkit.cashapp.report import CashAppEvaluation, read_noise
from rpmkit.config import sample_dir
from rpmkit.ui import data
from rpmkit.ui.cashapp import CashApplicationApp


@pytest.fixture(scope="module")
def ledger():
    return rio.load(sample_dir()).ledger


@pytest.fixture(scope="module")
def app(ledger):
    return CashApplicationApp(ledger, read_noise(sample_dir()), months=1)


def _rate(text: str, label: str) -> float:
    return float(re.search(label + r" <b>([\d.]+) %</b>", text).group(1))


def test_rates_match_the_evaluation_of_the_same_payments(app, ledger):
    assert app.notice.text == ""
    end = data.default_as_of(ledger)
    pay = ledger.payments
    keep = (pay["payment_date"] > end - pd.DateOffset(months=1)) & (pay["payment_date"] <= end)
    ev = CashAppEvaluation(0.9).fit(ledger.replace(payments=pay[keep]))
    text = app.rates_text
    assert f"<b>{int(keep.sum()):,}</b> payments" in text
    assert _rate(text, "envelope auto-match") == pytest.approx(
        100 * ev.rates_["envelope_rate"], abs=0.05
    )
    assert _rate(text, "precision") == pytest.approx(100 * ev.rates_["precision"], abs=0.05)
    assert _rate(text, "envelope auto-match") > 90


def test_threshold_moves_the_marker_and_the_rates(app):
    before_text = app.rates_text
    app._threshold.value = 0.3
    curve = app.figures["curve"]
    marker = [t for t in curve.data if t.name.startswith("threshold")][0]
    assert marker.name == "threshold 0.30" and list(marker.x) == [0.3]
    assert app.rates_text != before_text
    assert _rate(app.rates_text, "precision") < _rate(before_text, "precision")
    app._threshold.value = 0.9
    assert app.rates_text == before_text


def test_threshold_moves_reuse_the_windows_curve(app, monkeypatch):
    # the 101-threshold curve is computed once per window: a slider move only places
    # the marker on it (it was most of a move's time)
    ev = app._evaluation()
    curve = app.figures["curve"]
    before = [list(t.y) for t in curve.data if not t.name.startswith("threshold")]
    calls = []
    real = CashAppEvaluation.curve_

    def counted(self):
        calls.append(1)
        return real.fget(self)

    monkeypatch.setattr(CashAppEvaluation, "curve_", property(counted))
    app._threshold.value = 0.55
    app._threshold.value = 0.9
    assert calls == []
    after = [list(t.y) for t in curve.data if not t.name.startswith("threshold")]
    assert after == before
    expected = real.fget(ev)
    auto = [t for t in curve.data if t.name == "auto-applied"][0]
    assert list(auto.y) == pytest.approx(list(100 * expected["auto_rate"]))
    marker = [t for t in curve.data if t.name.startswith("threshold")][0]
    at = expected.loc[(expected["threshold"] - 0.9).abs().idxmin(), "auto_rate"]
    assert list(marker.y) == pytest.approx([100 * at])


def test_rule_and_noise_charts_and_review_queue(app):
    rules = app.figures["rules"].data[0]
    assert "reference" in list(rules.y)
    noise = app.figures["noise"].data[0]
    assert {"typo", "missing_reference", "all"} <= set(noise.y)
    assert "candidate" in app.queue_html and "amount_" in app.queue_html


def test_disputes_tab(app):
    pareto = app.figures["pareto"].data[0]
    assert list(pareto.x)[0] == "pricing"
    assert len(app.figures["resolution"].data) >= 1


def test_hidden_customer_ids_rerun(app):
    app._payers.value = True
    text = app.rates_text
    assert _rate(text, "envelope auto-match") > 80
    assert _rate(text, "precision") > 99
    app._payers.value = False


def test_bad_source_is_a_friendly_message(ledger):
    bad = CashApplicationApp.from_source("no/such/ledger")
    text = bad.notice.text
    assert text and "Traceback" not in text and "Error" not in text
    with pytest.raises(ValueError, match="threshold"):
        CashApplicationApp(ledger, threshold=2)

"""Headless tests of the cash-forecast app: build it, change controls, run the back-test."""

from __future__ import annotations

import re
import threading

import numpy as np
import pandas as pd
import pytest

import rpmkit.io as rio
from rpmkit.config import sample_dir
from rpmkit.forecast import CashForecast, weekly_receipts
from rpmkit.kpi.book import day_number
from rpmkit.ui.forecast import CashForecastApp


def looks_friendly(text: str) -> bool:
    """No traceback, no exception name, no server path."""
    if "Traceback" in text or re.search(r"\b\w+(Error|Exception)\b", text):
        return False
    return not re.search(r"(^|\s)/\w+/", text)


@pytest.fixture(scope="module")
def ledger():
    return rio.load(sample_dir()).ledger


@pytest.fixture(scope="module")
def app(ledger):
    # computing ahead has its own test; here it would only compete for the CPU
    return CashForecastApp(ledger, "2024-06-30", fast=True, prefetch=False)


def named(fig) -> dict:
    return {t.name: t for t in fig.data}


def test_forecast_chart_matches_the_model(app, ledger):
    assert app.notice.text == ""
    fc = CashForecast(13, 300, seed=0).fit(ledger, "2024-06-30")
    traces = named(app.figures["forecast"])
    assert np.allclose(traces["P50"].y, fc.weekly_["p50"])
    assert np.allclose(traces["open items"].y, fc.weekly_["open_items"])
    assert np.allclose(traces["new sales"].y, fc.weekly_["new_sales"])
    # the ledger runs past the horizon, so realised receipts are drawn too
    day = int(day_number(pd.Series([pd.Timestamp("2024-06-30")]))[0])
    assert np.allclose(traces["actual"].y, weekly_receipts(ledger, day, 13, forward=True))
    assert "13-week receipts (P50)" in app.tiles_text and "$" in app.tiles_text
    outlook = named(app.figures["outlook"])
    assert np.allclose(outlook["AR P50"].y, fc.weekly_["ar_p50"])


def test_controls_recompute(app):
    before = list(app.figures["forecast"].data[0].x)
    app._weeks.value = 8
    after = named(app.figures["forecast"])
    assert len(after["P50"].y) == 8
    app._as_of.value = pd.Timestamp("2024-03-31").date()
    moved = list(app.figures["forecast"].data[0].x)
    assert moved[0] != before[0] and pd.Timestamp(moved[0]) == pd.Timestamp("2024-04-01")
    assert "8-week receipts" in app.tiles_text
    app._weeks.value = 13


def test_other_horizons_are_computed_ahead_and_equal_a_fresh_fit(ledger, monkeypatch):
    app = CashForecastApp(ledger, "2024-06-30", weeks=13, fast=True)
    assert app.wait_prefetch(180)
    t = pd.Timestamp("2024-06-30")
    assert set(app._cache) == {(t, h) for h in (4, 8, 13, 26)}
    # a horizon change now only draws: no fit runs on the control's thread
    fits = []
    real_fit = CashForecast.fit

    def counted(self, *args, **kwargs):
        if threading.current_thread() is threading.main_thread():  # not other apps' prefetch
            fits.append(self.weeks)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(CashForecast, "fit", counted)
    app._weeks.value = 8
    assert fits == []
    fresh = real_fit(CashForecast(8, 300, seed=0), ledger, t)
    assert np.allclose(named(app.figures["forecast"])["P50"].y, fresh.weekly_["p50"])
    assert "8-week receipts" in app.tiles_text


def test_no_prefetch_when_switched_off(ledger):
    app = CashForecastApp(ledger, "2024-06-30", weeks=4, fast=True, prefetch=False)
    assert app.wait_prefetch(1)
    assert list(app._cache) == [(pd.Timestamp("2024-06-30"), 4)]


def test_bad_date_is_friendly(ledger):
    app = CashForecastApp(ledger, "end of june", weeks=4, fast=True, prefetch=False)
    assert "is not a date" in app.notice.text and looks_friendly(app.notice.text)
    assert app.figures["forecast"] is not None  # it still shows the default date
    app._as_of.value = None
    assert app.notice.text == "Pick an as-of date."
    with pytest.raises(ValueError, match="weeks must be one of"):
        CashForecastApp(ledger, weeks=5)


def test_backtest_runs_in_the_background(app):
    app._on_run()
    assert app._run.disabled  # the button is locked while the thread works
    assert app.wait_backtest(180)
    assert app.backtest is not None and not app._run.disabled
    fig = named(app.figures["backtest"])
    assert set(fig) == {
        "rpmkit forecast",
        "due date",
        "customer avg days",
        "ETS on receipts",
        "seasonal naive",
    }
    assert np.allclose(
        fig["rpmkit forecast"].y, 100 * app.backtest.by_horizon_.loc["forecast", "wape"]
    )
    assert app._progress.value == 3 and "3 origins" in app._status.value
    assert "WAPE" in app._bt_table.html


def test_missing_source_is_friendly():
    app = CashForecastApp.from_source("no-such-folder-anywhere")
    assert app.notice.text and looks_friendly(app.notice.text)

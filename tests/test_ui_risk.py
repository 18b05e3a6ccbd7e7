"""Headless tests of the credit-risk app: build it, set its controls, read what changed."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest

import rpmkit.io as rio
from rpmkit.config import sample_dir
from rpmkit.risk import CustomerRisk
from rpmkit.ui.risk import CreditRiskApp
from rpmkit.worklist import Worklist

AS_OF = "2024-06-30"


@pytest.fixture(scope="module")
def ledger():
    return rio.load(sample_dir()).ledger


@pytest.fixture(scope="module")
def app(ledger):
    return CreditRiskApp(ledger, AS_OF, hours=4.0)


def bar_total(fig) -> float:
    return float(sum(np.sum(t.x) for t in fig.data if t.type == "bar"))


def worked_cash(fig) -> float:
    return float(next(t.y[-1] for t in fig.data if t.name == "worked"))


def test_worklist_tab_shows_the_ranked_actions(app, ledger):
    assert app.notice.text == ""
    wl = Worklist(hours=4.0).fit(ledger, AS_OF)
    fig = app.figures["worklist"]
    assert bar_total(fig) == pytest.approx(wl.actions_["cash_per_hour"].head(15).sum())
    assert f"<b>{len(wl.actions_):,} actions</b>" in app._work_text.value
    first = wl.actions_.iloc[0]
    assert first["customer_id"] in app.tables["worklist"].html
    assert "/hour" in app.tables["worklist"].html  # the reason per rank


def test_capacity_changes_the_list(app, ledger):
    before = app._work_text.value
    cash_before = worked_cash(app.figures["worklist"])
    app._hours.value = 15.0
    after = app._work_text.value
    assert before != after
    wl = Worklist(hours=15.0).fit(ledger, AS_OF)
    assert f"<b>{len(wl.actions_):,} actions</b>" in after
    # the curve's worked part ends at the expected cash of the actions that fit
    assert worked_cash(app.figures["worklist"]) == pytest.approx(wl.actions_["expected_cash"].sum())
    assert worked_cash(app.figures["worklist"]) > cash_before
    app._hours.value = 4.0


def test_grades_limits_and_quality_tabs(app, ledger):
    app.show_section("grades")
    risk = CustomerRisk().fit(ledger, AS_OF)
    fig = app.figures["grades"]
    shown = np.add(fig.data[0].y, fig.data[1].y)
    assert shown.sum() == pytest.approx(risk.scores_["exposure"].sum())
    app.show_section("limits")
    html_text = app.tables["limits"].html
    assert "recommended" in html_text and "grade" in html_text
    app._limit_view.value = "hold"
    assert "yes" in app.tables["limits"].html
    app.show_section("quality")
    fig = app.figures["quality"]
    assert {t.name for t in fig.data} >= {"model", "observed"}
    assert "auc" in app.tables["quality"].html
    assert app.notice.text == ""
    app.show_section("worklist")


def test_as_of_change_redraws(app):
    before = bar_total(app.figures["worklist"])
    app._as_of.value = dt.date(2024, 3, 31)
    assert bar_total(app.figures["worklist"]) != pytest.approx(before)
    assert "2024-03-31" in app._context.value


def test_bad_inputs_are_friendly(ledger, tmp_path):
    app = CreditRiskApp(ledger, "not a date")
    assert "is not a date" in app.notice.text
    app._as_of.value = None
    assert app.notice.text == "Pick an as-of date."
    missing = CreditRiskApp.from_source(str(tmp_path / "nowhere.csv"))
    text = missing.notice.text
    assert text and "Traceback" not in text and str(tmp_path) not in text
    assert not re.search(r"\b\w+(Error|Exception)\b", text)

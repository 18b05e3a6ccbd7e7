"""Headless tests of the payment-behaviour app: build it, set its controls, read what changed.

Each figure's data and each number shown are compared with the rpmkit function
behind it, on the sample ledger.
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest

import rpmkit.io as rio
from rpmkit import behaviour, cohorts, plots, rollrate, survival
from rpmkit.config import sample_dir
from rpmkit.synth import generate
from rpmkit.ui import PaymentBehaviourApp, data
from rpmkit.ui.format import format_money


def looks_friendly(text: str, *paths) -> bool:
    """No traceback, no exception name, no server path in a message shown to people."""
    if "Traceback" in text or re.search(r"\b\w+(Error|Exception)\b", text):
        return False
    return not any(str(p) in text for p in paths) and not re.search(r"(^|\s)/\w+/", text)


@pytest.fixture(scope="module")
def ledger():
    return rio.load(sample_dir()).ledger


@pytest.fixture(scope="module")
def as_of(ledger):
    return data.default_as_of(ledger)


@pytest.fixture
def app(ledger, as_of):
    return PaymentBehaviourApp(ledger, as_of, months=12)


def lines(fig) -> dict:
    return {t.name: t for t in fig.data if t.type == "scatter"}


def csv_of(links) -> pd.DataFrame:
    match = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', links.csv_html)
    return pd.read_csv(io.BytesIO(base64.b64decode(match.group(1))), encoding="utf-8-sig")


# ------------------------------------------------------------------ trends
def test_trends_show_each_segment_line(app, ledger, as_of):
    assert app.notice.text == ""
    fig = app.figures["trends"]
    trends = behaviour.payment_trends(ledger, as_of, by="segment")
    start = pd.Timestamp("2024-01-01")  # twelve months ending 2024-12-31
    shown = lines(fig)
    assert set(shown) == {*data.segments(ledger), "all invoices"}
    overall = trends[(trends["segment"] == "(all)") & (trends["period"] >= start)]
    assert len(shown["all invoices"].x) == 12
    assert list(shown["all invoices"].y) == pytest.approx(overall["days_to_pay"].tolist())
    assert shown["smb"].line.color == plots.SEGMENT_COLOURS["smb"]
    # the table shows the same numbers, rounded
    assert f"{overall['days_to_pay'].iloc[-1]:,.1f}" in app._trend_table.html
    # two years of payments less the start-up months are too few for STL: the app says so
    assert not [t for t in fig.data if t.type == "bar"]
    assert "needs 24 complete months" in app._season_text.value
    assert not fig.layout.shapes
    app._months.value = 24  # the window now reaches the ledger's start-up, shaded
    assert [s.x1 for s in fig.layout.shapes] == [pd.Timestamp("2023-05-01") - pd.Timedelta(days=15)]


def test_the_seasonal_component_of_a_longer_ledger():
    ledger = generate(customers=150, years=3, seed=4).ledger
    as_of = pd.Timestamp("2025-12-31")
    app = PaymentBehaviourApp(ledger, as_of, months=12)
    trends = behaviour.payment_trends(ledger, as_of, by="segment")
    series = trends[trends["segment"] == "(all)"].set_index("period")["days_to_pay"]
    # payment months from the fourth after the first invoice (2023-01-02) on
    decomposition = behaviour.seasonal_decomposition(series[series.index >= "2023-05-01"])
    season = decomposition.seasonal_
    bars = next(t for t in app.figures["trends"].data if t.type == "bar")
    assert list(bars.y) == pytest.approx(season[season.index >= "2025-01-01"].tolist())
    assert f"Seasonal strength {decomposition.seasonal_strength_:.2f}" in app._season_text.value


def test_measure_and_window_redraw_the_trend(app, ledger, as_of):
    fig = app.figures["trends"]
    app._measure.value = "late_share"
    trends = behaviour.payment_trends(ledger, as_of, by="segment")
    overall = trends[(trends["segment"] == "(all)") & (trends["period"] >= "2024-01-01")]
    assert list(lines(fig)["all invoices"].y) == pytest.approx(overall["late_share"].tolist())
    assert "Share paid late" in fig.layout.title.text
    app._months.value = 6
    assert len(lines(fig)["all invoices"].x) == 6
    assert "2024-07 to 2024-12-31" in fig.layout.title.text


def test_a_segment_filters_the_trends(app, ledger, as_of):
    segment = data.segments(ledger)[-1]
    app._segment.value = segment
    fig = app.figures["trends"]
    assert list(lines(fig)) == [segment]
    view = data.segment_ledger(ledger, segment)
    mine = behaviour.payment_trends(view, as_of, by="segment")
    mine = mine[(mine["segment"] == segment) & (mine["period"] >= "2024-01-01")]
    assert list(lines(fig)[segment].y) == pytest.approx(mine["days_to_pay"].tolist())
    assert segment in app._context.value


def test_an_earlier_as_of_date_ends_the_trend_there(app, ledger):
    app._as_of.value = pd.Timestamp("2024-06-30").date()
    fig = app.figures["trends"]
    assert pd.Timestamp(lines(fig)["all invoices"].x[-1]) == pd.Timestamp("2024-06-01")
    # eighteen complete months are too few for STL: no bars, and the app says why
    assert not [t for t in fig.data if t.type == "bar"]
    assert "needs 24 complete months" in app._season_text.value


# ------------------------------------------------------------------ payers
def test_changing_payers_list_the_flagged_customers(app, ledger, as_of):
    app.show_section("payers")
    profiles = behaviour.PaymentProfiles(by="customer").fit(ledger, as_of)
    worse = profiles.flagged("deteriorating")
    fig = app.figures["payers"]
    assert list(fig.data[0].y)[::-1] == [str(c) for c in worse.index[:15]]
    assert list(fig.data[0].x)[::-1] == pytest.approx(worse["slope_days_per_year"][:15].tolist())
    counts = profiles.flag_counts()
    assert f"{counts['deteriorating']:,} deteriorating" in app._flag_counts.value
    top = worse.iloc[0]
    assert worse.index[0] in app._payer_table.html
    interval = f"{top['slope_low']:+,.1f} to {top['slope_high']:+,.1f}"
    assert interval in app._payer_table.html
    assert len(csv_of(app._payer_table.downloads)) == len(worse)

    app._flag.value = "improving"
    better = profiles.flagged("improving")
    assert list(fig.data[0].y)[::-1] == [str(c) for c in better.index[:15]]
    assert better.index[0] in app._payer_table.html
    assert "Improving" in fig.layout.title.text


# ---------------------------------------------------------------- survival
def test_km_curves_by_segment_with_medians_and_log_rank(app, ledger, as_of):
    app.show_section("survival")
    fit = survival.PaymentSurvival(by="segment").fit(ledger, as_of)
    fig = app.figures["survival"]
    curves = {t.name: t for t in fig.data if t.showlegend is not False}
    assert set(curves) == set(data.segments(ledger))
    smb = fit.curves_[fit.curves_["group"] == "smb"]
    assert list(curves["smb"].y[1:]) == pytest.approx(smb["survival"].tolist())
    assert curves["smb"].line.color == plots.SEGMENT_COLOURS["smb"]
    assert any(t.fill == "tonexty" for t in fig.data)  # the bands
    table = fit.summary()
    html_text = app._km_table.html
    for _, row in table.iterrows():
        assert f">{row['median_days']:,.0f}<" in html_text
        assert f"{row['median_lower']:,.0f} to {row['median_upper']:,.0f}" in html_text
        assert f">{int(row['censored']):,}<" in html_text
    assert "p &lt; 0.0001" in app._logrank.value or "p < 0.0001" in app._logrank.value
    assert "χ²" in app._logrank.value

    segment = data.segments(ledger)[-1]
    app._segment.value = segment  # the open tab follows at once
    only = survival.PaymentSurvival(by="segment").fit(data.segment_ledger(ledger, segment), as_of)
    curves = {t.name: t for t in fig.data if t.showlegend is not False}
    assert list(curves) == [segment]
    assert list(curves[segment].y[1:]) == pytest.approx(only.curves_["survival"].tolist())
    assert "no log-rank test" in app._logrank.value


def test_other_tabs_follow_a_control_when_opened(app, ledger):
    app.show_section("survival")
    before = [list(t.y) for t in app.figures["survival"].data]
    app.show_section("trends")
    app._as_of.value = pd.Timestamp("2024-03-31").date()
    assert "survival" in app._stale
    app.show_section("survival")
    assert [list(t.y) for t in app.figures["survival"].data] != before
    assert "2024-03-31" in app.figures["survival"].layout.title.text


# ---------------------------------------------------------------- vintages
def test_vintages_show_the_window_of_the_matrix(app, ledger, as_of):
    app.show_section("vintages")
    matrix = cohorts.VintageCurves().fit(ledger, as_of).matrix("collected").tail(12)
    fig = app.figures["vintages"]
    heat = fig.data[0]
    assert list(heat.y) == [str(v) for v in matrix.index]
    z = np.array([[np.nan if v is None else v for v in row] for row in heat.z], dtype=float)
    np.testing.assert_allclose(z, matrix.to_numpy(dtype=float), equal_nan=True)
    assert heat.type == "heatmap" and heat.xaxis == "x"
    assert len([t for t in fig.data if t.xaxis == "x2"]) == 12  # one curve per vintage
    assert "2024-12" in app._vintage_table.html and "2023-12" not in app._vintage_table.html
    app._months.value = 24
    assert len(fig.data[0].y) == 24
    assert len(csv_of(app._vintage_table.downloads)) == 24


# --------------------------------------------------------------- roll rates
def test_roll_rates_matrix_and_allowance(app, ledger, as_of):
    app.show_section("rollrates")
    fit = rollrate.RollRates(months=12).fit(ledger, as_of)
    fig = app.figures["rollrates"]
    heat = fig.data[0]
    np.testing.assert_allclose(
        np.array(heat.z, dtype=float), fit.summary().to_numpy(dtype=float), equal_nan=True
    )
    assert list(heat.x)[-2:] == ["paid", "written off"]
    bars = next(t for t in fig.data if t.type == "bar" and t.xaxis == "x2")
    units = fit.allowance_.drop(index="total")["allowance"].astype(float) / 100
    assert list(bars.y) == pytest.approx(units.tolist())
    assert list(bars.marker.color) == list(plots.bucket_colours(list(bars.x)).values())
    total = fit.allowance_.loc["total", "allowance"] / 100
    assert format_money(total, "USD", decimals=0) in app._allowance_table.html
    frame = csv_of(app._allowance_table.downloads)
    assert frame["allowance"].iloc[-1] == pytest.approx(total)
    matrix = csv_of(app._matrix_downloads)
    assert matrix.iloc[:, 1:].sum(axis=1).to_numpy() == pytest.approx(1.0)

    segment = data.segments(ledger)[0]
    app._segment.value = segment
    view = data.segment_ledger(ledger, segment)
    mine = rollrate.RollRates(months=12).fit(view, as_of)
    units = mine.allowance_.drop(index="total")["allowance"].astype(float) / 100
    bars = next(t for t in fig.data if t.type == "bar")
    assert list(bars.y) == pytest.approx(units.tolist())


def test_excel_download_of_a_table(app):
    app.show_section("rollrates")
    links = app._allowance_table.downloads
    links.click_excel()
    match = re.search(r"base64,([^\"]+)\">⬇ Excel", links.excel_html)
    frame = pd.read_excel(io.BytesIO(base64.b64decode(match.group(1))))
    assert frame["bucket"].tolist()[-1] == "total"


# ------------------------------------------------------------ method notes
@pytest.mark.parametrize(
    ("section", "note", "words"),
    [
        ("trends", "_trend_note", ("STL", "days beyond terms")),
        ("payers", "_payer_note", ("Benjamini–Hochberg", "least squares")),
        ("survival", "_km_note", ("censored", "log-rank")),
        ("vintages", "_vintage_note", ("denominator", "not yet observed")),
        ("rollrates", "_roll_note", ("absorbing", "loss rate", "IFRS 9")),
    ],
)
def test_the_method_is_one_click_away(app, section, note, words):
    app.show_section(section)
    panel = getattr(app, note)
    assert panel.selected_index is None  # collapsed until clicked
    assert all(word in panel.text for word in words)


# ---------------------------------------------------------- bad input
def test_a_bad_source_shows_a_friendly_message(tmp_path):
    missing = tmp_path / "nowhere" / "ledger.csv"
    app = PaymentBehaviourApp.from_source(str(missing))
    assert app.notice.text.startswith("No ledger was found")
    assert looks_friendly(app.notice.text, missing, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("this,is\nnot,a ledger\n", encoding="utf-8")
    app = PaymentBehaviourApp.from_source(str(bad))
    assert app.notice.text and looks_friendly(app.notice.text, bad, tmp_path)
    app = PaymentBehaviourApp.from_source("", preset="no-such-preset")
    assert "Unknown preset" in app.notice.text
    assert repr(app) == "PaymentBehaviourApp(no ledger)"


def test_a_bad_as_of_falls_back_with_a_notice():
    app = PaymentBehaviourApp.from_source(None, as_of="2024-13-45", fast=True)
    assert app._as_of.value.isoformat() == "2024-12-31"
    assert "is not a date" in app.notice.text
    assert app._months.value == 12
    app._as_of.value = None
    assert app.notice.text == "Pick an as-of date."


def test_a_failing_section_says_so_without_a_traceback(app, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom at /srv/secret/path")

    monkeypatch.setattr(rollrate.RollRates, "fit", broken)
    app.show_section("rollrates")
    assert "could not be computed" in app.notice.text
    assert looks_friendly(app.notice.text)
    assert "boom" in caplog.text  # the server log keeps the detail


def test_too_little_history_says_why_and_keeps_no_stale_chart(app):
    app.show_section("rollrates")
    assert app.figures["rollrates"].data[0].type == "heatmap"
    app._as_of.value = pd.Timestamp("2023-01-05").date()  # before the ledger's first month end
    assert app.notice.text.startswith("“Roll rates” cannot be shown for this date and segment: ")
    assert looks_friendly(app.notice.text)
    assert not app.figures["rollrates"].data  # the old matrix is gone, not left standing
    assert "Not available" in app._allowance_table.html
    app._as_of.value = pd.Timestamp("2024-12-31").date()
    assert app.notice.text == ""
    assert app.figures["rollrates"].data[0].type == "heatmap"
    assert not app.figures["rollrates"].layout.annotations[-1].text.startswith("Not available")

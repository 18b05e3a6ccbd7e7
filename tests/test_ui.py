"""Headless widget tests: build each app in Python, set its controls, press its buttons.

They check what a person would see change: the figures' data, the KPI text, the
tables and the messages (friendly, without a path or a traceback).
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pandas as pd
import pytest

import rpmkit.io as rio
from rpmkit import kpi, plots
from rpmkit.config import REPO_ROOT, sample_dir
from rpmkit.ui import AppIndex, ARDashboardApp, DataQualityApp, data
from rpmkit.ui.format import format_days, format_money, format_percent

BAD_FLAT = """invoice_id,customer_id,invoice_date,due_date,amount,currency,paid_date
A1,C1,2024-01-05,2024-02-04,100.00,USD,2024-02-01
A2,C1,2024-01-07,2024-02-06,1.234,USD,
A3,C2,2024-13-01,2024-02-06,50.00,USD,
A4,C2,2024-02-01,2024-01-01,75.00,USD,
A5,C3,2024-02-03,2024-03-04,-5.00,USD,
A6,C3,2024-03-03,2024-04-02,20.00,XXX,
A7,C3,2024-03-05,2024-04-04,=SUM(1),USD,
A1,C1,2024-01-05,2024-02-04,100.00,USD,2024-02-01
"""


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
    return ARDashboardApp(ledger, as_of)


def aging_traces(app):
    return [t for t in app.figure.data if t.type == "bar" and (t.xaxis or "x") == "x"]


def trend_traces(app):
    return [t for t in app.figure.data if t.xaxis == "x2" and t.name in ("DSO", "BPDSO", "ADD")]


# ------------------------------------------------------------------ plots
def test_aging_bars_use_the_bucket_colours_and_a_money_axis():
    amounts = pd.DataFrame(
        {"current": [70.0], "1-30": [20.0], "31-60": [5.0], "61-90": [3.0], "91+": [2.0]},
        index=["total"],
    )
    fig = plots.aging_bars(amounts, "EUR")
    assert list(fig.data[0].marker.color) == list(plots.BUCKET_COLOURS.values())
    assert fig.layout.yaxis.tickprefix == "€" and fig.layout.yaxis.tickformat == ",.0f"
    assert fig.data[0].text[0] == "€70"


def test_stacked_aging_keeps_one_colour_per_segment():
    amounts = pd.DataFrame(
        {"current": [5.0, 3.0], "1-30": [1.0, 1.0], "91+": [0.0, 2.0]},
        index=["smb", "enterprise"],
    )
    fig = plots.aging_bars(amounts, "USD")
    colours = {t.name: t.marker.color for t in fig.data if t.type == "bar"}
    assert colours == {"smb": plots.SEGMENT_COLOURS["smb"], "enterprise": "#1f4e79"}
    assert fig.layout.barmode == "stack"


def test_kpi_trend_draws_benchmarks_in_the_kpis_colours():
    series = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-31", "2024-02-29"] * 2),
            "kpi": ["dso", "dso", "add", "add"],
            "value": [40.0, 42.0, 5.0, None],
        }
    )
    fig = plots.kpi_trend(series, benchmarks={"dso": 38.04, "add": 3.0}, kpis=("dso", "add"))
    lines = {t.name: t for t in fig.data}
    assert lines["CRF median DSO"].y == (38.04, 38.04)
    assert lines["CRF median DSO"].line.color == lines["DSO"].line.color
    assert list(fig.layout.xaxis.ticktext) == ["2024-01", "2024-02"]


def test_side_by_side_keeps_both_halves():
    left = plots.rejects_by_reason(pd.DataFrame({"reason": ["bad_date", "bad_date", "x"]}))
    right = plots.coverage_bars(pd.Series(pd.to_datetime(["2024-01-03", "2024-03-04"])))
    fig = plots.side_by_side(left, right)
    assert [t.xaxis for t in fig.data] == ["x", "x2"]
    assert fig.data[1].y.tolist() == [1, 0, 1]  # February is a gap at zero
    assert {a.text for a in fig.layout.annotations} >= {"Rejected rows by reason"}


def test_formatting():
    assert format_money(-1234.5, "USD") == "-$1,234.50"
    assert format_money(1234.5, "CHF", decimals=0) == "CHF 1,234"
    assert format_days(None) == "–" and format_percent(12.345) == "12.3 %"


# -------------------------------------------------------------- dashboard
def test_dashboard_shows_the_kpis_of_the_as_of_date(app, ledger, as_of):
    assert app.notice.text == ""
    dso = kpi.dso(ledger, as_of)
    assert app.tiles["dso"].value_text == format_days(dso.value)
    assert app.tiles["cei"].value_text == format_percent(kpi.cei(ledger, as_of).value)
    ar = kpi.components(ledger, as_of).units(kpi.components(ledger, as_of).ar_end)
    assert app.tiles["open_ar"].value_text == format_money(ar, "USD", decimals=0)
    assert "vs " in app.tiles["dso"].change_text
    # the stacked aging bars add up to open AR, one trace per segment
    bars = aging_traces(app)
    assert {t.name for t in bars} == set(data.segments(ledger))
    assert sum(sum(t.y) for t in bars) == pytest.approx(ar, abs=0.05)
    # twelve monthly points, the last one the as-of date
    dso_line = next(t for t in trend_traces(app) if t.name == "DSO")
    assert len(dso_line.x) == 12
    assert pd.Timestamp(dso_line.x[-1]) == as_of
    assert dso_line.y[-1] == pytest.approx(dso.value)


def test_changing_the_as_of_date_updates_tiles_and_charts(app, ledger, as_of):
    before_dso = app.tiles["dso"].value_text
    before_bars = [list(t.y) for t in aging_traces(app)]
    earlier = data.month_back(as_of, 6)
    app._as_of.value = earlier.date()
    assert app.tiles["dso"].value_text == format_days(kpi.dso(ledger, earlier).value)
    assert app.tiles["dso"].value_text != before_dso
    assert [list(t.y) for t in aging_traces(app)] != before_bars
    dso_line = next(t for t in trend_traces(app) if t.name == "DSO")
    assert pd.Timestamp(dso_line.x[-1]) == earlier
    assert str(earlier.date()) in app.tiles["dso"].formula_html


def test_choosing_a_segment_filters_everything(app, ledger, as_of):
    segment = data.segments(ledger)[-1]
    all_ar = app.tiles["open_ar"].value_text
    app._segment.value = segment
    view = data.segment_ledger(ledger, segment)
    bars = aging_traces(app)
    assert [t.name for t in bars] == [segment]
    expected = kpi.aging(view, as_of).totals()
    assert list(bars[0].y) == pytest.approx(expected[kpi.bucket_labels((0, 30, 60, 90))] / 100)
    assert app.tiles["dso"].value_text == format_days(kpi.dso(view, as_of).value)
    assert app.tiles["open_ar"].value_text != all_ar
    rows = data.top_past_due(view, as_of)
    assert set(rows["segment"]) <= {segment}
    assert rows["customer_id"].iloc[0] in app._top.html
    app._segment.value = data.ALL
    assert app.tiles["open_ar"].value_text == all_ar


def test_selecting_a_customer_lists_its_open_items(app, ledger, as_of):
    options = app._customer.options
    assert len(options) > 2
    customer = options[1][1]
    app._customer.value = customer
    items = data.customer_open_items(ledger, customer, as_of)
    assert not items.empty
    assert all(i in app._items.html for i in items["invoice_id"].head(15))
    assert customer in app._items._title.value
    assert (items["open_amount"] > 0).all()


def test_formula_is_one_click_away(app, ledger, as_of):
    tile = app.tiles["dso"]
    assert app._formula.layout.display == "none"
    tile.toggle.value = True
    c = kpi.components(ledger, as_of)
    shown = app._formula.value
    assert app._formula.layout.display == ""
    assert "AR_end / S × D" in shown
    assert format_money(c.units(c.ar_end), "USD", decimals=0) in shown
    app.tiles["cei"].toggle.value = True
    assert not tile.toggle.value and "AR_begin + S − AR_end" in app._formula.value
    app.tiles["cei"].toggle.value = False
    assert app._formula.layout.display == "none"


def test_tables_download_as_csv_and_excel(app):
    links = app._top.downloads
    match = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', links.csv_html)
    frame = pd.read_csv(io.BytesIO(base64.b64decode(match.group(1))), encoding="utf-8-sig")
    assert list(frame.columns[:3]) == ["customer_id", "name", "segment"]
    assert len(frame) == len(app._ranked)
    assert links.excel_html == ""
    links.click_excel()
    match = re.search(r"base64,([^\"]+)\"", links.excel_html)
    workbook = pd.read_excel(io.BytesIO(base64.b64decode(match.group(1))))
    assert workbook["customer_id"].tolist() == frame["customer_id"].tolist()


def test_a_cleared_date_asks_for_one(app):
    app._as_of.value = None
    assert app.notice.text == "Pick an as-of date."


def test_bad_parameters_show_friendly_messages(ledger, tmp_path):
    app = ARDashboardApp(ledger, "2024-13-45")
    assert "not a date" in app.notice.text and looks_friendly(app.notice.text)
    app = ARDashboardApp(ledger, "1999-01-31")
    assert "outside the ledger" in app.notice.text
    missing = tmp_path / "nowhere"
    app = ARDashboardApp.from_source(str(missing))
    assert app.notice.text.startswith("No ledger was found")
    assert looks_friendly(app.notice.text, missing, tmp_path)
    app = ARDashboardApp.from_source("", preset="no-such-preset")
    assert "Unknown preset" in app.notice.text


# ------------------------------------------------------------ data quality
@pytest.fixture
def data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("RPMKIT_DATA_ROOTS", str(tmp_path))
    (tmp_path / "bad_flat.csv").write_text(BAD_FLAT, encoding="utf-8")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    header, first = BAD_FLAT.splitlines()[:2]
    (tmp_path / "good_flat.csv").write_text(f"{header}\n{first}\n", encoding="utf-8")
    return tmp_path


def test_quality_app_reports_the_sample(ledger):
    app = DataQualityApp()
    assert app.notice.text.startswith("Loaded the sample ledger")
    assert "reconcile." in app.notice.text
    assert "invoices" in app._totals.html and "$" in app._totals.html
    per_month = next(t for t in app.figure.data if t.xaxis == "x2")
    assert sum(per_month.y) == len(ledger.invoices)
    assert "No rows were rejected" in {a.text for a in app.figure.layout.annotations}


def test_quality_app_loads_a_typed_source_and_shows_its_rejects(data_root):
    app = DataQualityApp(source=str(data_root / "good_flat.csv"))
    assert app.notice.text.startswith("Loaded the source: 1 row, 0 rejected")
    first = app.figure
    app._source.value = "bad_flat.csv"
    app.click_load()
    assert app.notice.text.startswith("Loaded the source: 1 row, 6 rejected, 1 skipped")
    assert app.figure is first  # redrawn in place
    bars = next(t for t in app.figure.data if t.xaxis in (None, "x"))
    counts = dict(zip(bars.y, bars.x, strict=True))
    assert counts["bad_date"] == 1 and counts["unknown_currency"] == 1
    assert "the amount must be greater than zero" in app._reasons.html
    csv = app._all_rejects.downloads.csv_html
    text = base64.b64decode(re.search(r"base64,([^\"]+)\"", csv).group(1)).decode("utf-8-sig")
    assert str(data_root) not in text and "bad_flat.csv" in text
    assert "'=SUM(1)" in text  # a spreadsheet will not run it


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("nope.csv", "No ledger was found"),
        ("/etc/hostname", "This app may only read ledgers from its data folder"),
        ("../../../etc/hostname", "This app may only read ledgers from its data folder"),
        ("postgresql://user@localhost/db", "Database URLs cannot be typed here"),
        ("empty.csv", "The ledger could not be loaded: source: the file is empty."),
    ],
)
def test_quality_app_refuses_bad_sources_kindly(data_root, typed, expected):
    app = DataQualityApp(source=str(data_root / "bad_flat.csv"))
    app._source.value = typed
    app.click_load()
    assert app.notice.text.startswith(expected)
    assert looks_friendly(app.notice.text, data_root)
    assert app.result is not None  # the last good load stays on screen


def test_index_lists_every_app_with_one_line():
    index = AppIndex(REPO_ROOT / "notebooks")
    apps = sorted(p.name for p in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [e.file for e in index.entries] == apps
    for e in index.entries:
        assert e.title and e.line.endswith("?"), e
        assert f'href="{e.file}"' in index.html


def test_plotly_bundle_is_copied_once_and_follows_plotly(tmp_path):
    import plotly

    from rpmkit.config import serve_plotly_bundle

    bundle = serve_plotly_bundle(tmp_path)
    original = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    assert bundle.name == "plotly-widget.js"
    assert bundle.read_bytes() == original.read_bytes()
    assert bundle.stat().st_mode & 0o044 == 0o044  # the server (any reader) may read it
    # a stale copy (another plotly version) is replaced; no temporary file stays behind
    bundle.write_text("export default {};")
    assert serve_plotly_bundle(tmp_path).read_bytes() == original.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["plotly-widget.js"]


def test_charts_load_plotlys_bundle_by_url_only_under_voila(monkeypatch):
    import plotly.graph_objects as go

    from rpmkit.config import PLOTLY_BUNDLE_URL
    from rpmkit.ui.charts import ServedFigureWidget, figure_widget

    fig = go.Figure(go.Bar(x=["a"], y=[1]))
    monkeypatch.delenv("VOILA_KERNEL_ID", raising=False)
    inline = figure_widget(fig)
    assert not isinstance(inline, ServedFigureWidget) and len(inline._esm) > 1_000_000
    monkeypatch.setenv("VOILA_KERNEL_ID", "k")
    served = figure_widget(fig)
    assert isinstance(served, ServedFigureWidget)
    assert PLOTLY_BUNDLE_URL in served._esm and len(served._esm) < 1_000
    assert served.data[0].y == (1,)
    monkeypatch.setenv("RPMKIT_PLOTLY_INLINE", "1")
    assert not isinstance(figure_widget(fig), ServedFigureWidget)

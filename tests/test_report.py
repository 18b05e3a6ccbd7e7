"""The KPI pack: figures on a hand-computed ledger, an offline and escaped HTML page, a workbook."""

from __future__ import annotations

import datetime as dt
import html
import re

import openpyxl
import pandas as pd
import pytest

from rpmkit import plots, report
from rpmkit.cli import main
from rpmkit.ledger import Ledger
from rpmkit.writers import write_ledger

EVIL = "Acme & Sons <script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://example.invalid","x")'

# invoice, customer, invoice date, due date, amount (cents), paid date
ROWS = [
    ("I1", "C1", "2024-03-01", "2024-03-31", 100_000, None),  # 91 days past due at 06-30
    ("I2", "C1", "2024-05-01", "2024-05-31", 200_000, None),  # 30 past due
    ("I3", "C2", "2024-04-15", "2024-05-15", 50_000, None),  # 46 past due
    ("I4", "C2", "2024-06-10", "2024-07-10", 300_000, None),  # current, June sale
    ("I5", "C3", "2024-06-01", "2024-06-30", 150_000, None),  # due today: current
    ("I6", "C3", "2024-05-05", "2024-06-04", 400_000, "2024-06-03"),
    ("I7", "C1", "2024-06-05", "2024-07-05", 250_000, "2024-06-25"),
    ("I8", "C2", "2024-03-21", "2024-04-20", 80_000, None),  # 71 past due
]
# June 2024: AR_end 8,800 (current 4,500), AR_begin 8,300, sales 7,000, 30 days.
# May 2024 (prior): AR_end 8,300, current 6,000 (I2 due 05-31, I6), sales 6,000, 31 days.
DSO, BPDSO = 8_800 / 7_000 * 30, 4_500 / 7_000 * 30
PRIOR_DSO, PRIOR_BPDSO = 8_300 / 6_000 * 31, 6_000 / 6_000 * 31


def tiny_ledger() -> Ledger:
    flat = pd.DataFrame(
        ROWS,
        columns=["invoice_id", "customer_id", "invoice_date", "due_date", "amount", "paid_date"],
    )
    for col in ("invoice_date", "due_date", "paid_date"):
        flat[col] = pd.to_datetime(flat[col])
    customers = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name": [EVIL, FORMULA, "B & Co"]})
    return Ledger.from_flat(flat, customers=customers)


@pytest.fixture(scope="module")
def pack():
    return report.kpi_pack(tiny_ledger(), "2024-06-30")


@pytest.fixture(scope="module")
def ledger_dir(tmp_path_factory):
    return str(write_ledger(tiny_ledger(), tmp_path_factory.mktemp("report") / "ledger"))


@pytest.fixture(scope="module")
def html_text(ledger_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "pack.html"
    assert main(["report", ledger_dir, "--as-of", "2024-06-30", "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def workbook(ledger_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("xlsx") / "pack.xlsx"
    assert main(["report", ledger_dir, "--as-of", "2024-06-30", "--out", str(out)]) == 0
    return openpyxl.load_workbook(out)


# ------------------------------------------------------------------ the pack
def test_pack_kpis_with_prior_period_and_benchmarks(pack):
    k = pack.kpis
    assert pack.prior_as_of == pd.Timestamp("2024-05-31")
    assert k.loc["open_ar", "value"] == 8_800 and k.loc["open_ar", "prior"] == 8_300
    assert k.loc["open_ar", "change"] == 500
    assert k.loc["dso", "value"] == pytest.approx(DSO, abs=1e-4)
    assert k.loc["dso", "prior"] == pytest.approx(PRIOR_DSO, abs=1e-4)
    assert k.loc["dso", "change"] == pytest.approx(DSO - PRIOR_DSO, abs=1e-3)
    assert k.loc["bpdso", "prior"] == pytest.approx(PRIOR_BPDSO, abs=1e-4)
    assert k.loc["pct_over_90", "value"] == pytest.approx(1_000 / 8_800 * 100, abs=1e-4)
    assert (k.loc["dso", "AR_end"], k.loc["dso", "S"], k.loc["dso", "D"]) == (8_800, 7_000, 30)
    assert k.loc["dso", "benchmark"] == 38.04 and k.loc["cei", "benchmark"] == 86.52
    assert pd.isna(k.loc["open_ar", "benchmark"])


def test_pack_aging_top_past_due_and_trend(pack):
    assert pack.aging["amount"].tolist() == [4_500, 2_000, 500, 800, 1_000]
    assert pack.aging["invoices"].tolist() == [2, 1, 1, 1, 1]
    top = pack.top_past_due
    assert top["customer_id"].tolist() == ["C1", "C2"]  # C3 has nothing past due
    assert top["past_due"].tolist() == [3_000, 1_300]
    assert top["max_days_past_due"].tolist() == [91, 71]
    assert top["name"].tolist() == [EVIL, FORMULA]
    assert set(pack.aging_by_customer["customer_id"]) == {"C1", "C2", "C3"}
    assert pack.aging_by_customer["total"].sum() == 8_800
    trend = pack.trend
    assert trend["period_end"].iloc[-1] == pd.Timestamp("2024-06-30")
    assert trend["period_end"].iloc[0] == pd.Timestamp("2024-03-31")  # first month with data
    assert trend["dso"].iloc[-1] == pytest.approx(DSO)
    assert trend["add"].iloc[-1] == pytest.approx(DSO - BPDSO)


def test_trend_ends_at_an_as_of_that_is_not_a_month_end():
    trend = report.kpi_pack(tiny_ledger(), "2024-06-15").trend
    assert trend["period_end"].iloc[-1] == pd.Timestamp("2024-06-15")
    assert trend["period_end"].iloc[-2] == pd.Timestamp("2024-05-31")


def test_formulas_fill_in_the_ledgers_figures(pack):
    f = pack.formulas.set_index("key")
    assert f.loc["dso", "formula"] == "AR_end / S × D"
    assert f.loc["dso", "with_figures"] == "8,800.00 / 7,000.00 × 30 = 37.71 days"
    assert f.loc["dso_countback", "with_figures"] == "30 + 1,800.00 / 6,000.00 × 31 = 39.30 days"
    assert f.loc["add", "with_figures"] == "37.71 − 19.29 = 18.43 days"
    assert f.loc["cei", "with_figures"].endswith("× 100 = 60.19 %")
    assert f.loc["cei", "formula"] == "(AR_begin + S − AR_end) / (AR_begin + S − AR_cur) × 100"


def test_bucket_colours_are_the_shared_ones(pack):
    assert report.BUCKET_COLOURS is plots.BUCKET_COLOURS
    colours = report.aging_figure(pack).data[0].marker.color
    assert list(colours) == [report.BUCKET_COLOURS[b] for b in pack.aging["bucket"]]


# --------------------------------------------------------------------- HTML
def test_html_has_the_tiles_with_change_and_benchmark(html_text):
    for key in report.TILES:
        assert f'data-kpi="{key}"' in html_text
    tile = re.search(r'<div class="tile" data-kpi="dso".*?</div></div>', html_text).group(0)
    assert "37.7" in tile and "-5.2 days vs prior" in tile and "CRF median: 38.04" in tile
    assert "8,800" in html_text and "USD" in html_text
    assert "Top past-due customers" in html_text and "How each figure is computed" in html_text
    assert "<code>= 8,800.00 / 7,000.00 × 30 = 37.71 days</code>" in html_text


def test_html_works_offline(html_text):
    assert "https://cdn" not in html_text
    assert "<script src=" not in html_text.lower()
    assert "plotly.js v" in html_text  # the library itself is embedded
    assert html_text.count('class="plotly-graph-div"') == 2


def test_html_escapes_every_data_value(html_text):
    assert EVIL not in html_text
    assert html.escape(EVIL) in html_text  # Acme &amp; Sons &lt;script&gt;…
    assert html.escape(FORMULA, quote=True) in html_text


def test_report_refuses_an_unknown_output_type(capsys, ledger_dir, tmp_path):
    code = main(["report", ledger_dir, "--as-of", "2024-06-30", "--out", str(tmp_path / "x.pdf")])
    assert code == 2 and ".html or .xlsx" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


# -------------------------------------------------------------------- Excel
def rows(ws) -> list[dict]:
    values = list(ws.iter_rows(values_only=True))
    return [dict(zip(values[0], r, strict=True)) for r in values[1:]]


def test_xlsx_has_the_sheets(workbook):
    assert workbook.sheetnames == [
        "KPIs",
        "Aging",
        "Aging by customer",
        "Trend",
        "Top past due",
        "Formulas",
        "About",
    ]


def test_xlsx_numbers_are_numbers_with_formats(workbook):
    kpis = {r["key"]: r for r in rows(workbook["KPIs"])}
    assert kpis["open_ar"]["value"] == 8_800 and kpis["open_ar"]["unit"] == "USD"
    assert kpis["dso"]["value"] == pytest.approx(DSO, abs=1e-4)
    assert kpis["dso"]["AR_end"] == 8_800 and kpis["dso"]["S"] == 7_000 and kpis["dso"]["D"] == 30
    assert kpis["cei"]["benchmark"] == 86.52
    ws = workbook["KPIs"]
    assert ws["C2"].data_type == "n" and ws["C2"].number_format == "#,##0.00"
    aging = rows(workbook["Aging"])
    assert [r["amount_USD"] for r in aging] == [4_500, 2_000, 500, 800, 1_000]
    assert workbook["Aging"]["B2"].number_format == "#,##0.00"
    top = rows(workbook["Top past due"])
    assert [(r["customer_id"], r["past_due"]) for r in top] == [("C1", 3_000), ("C2", 1_300)]
    trend = rows(workbook["Trend"])
    assert trend[-1]["period_end"] == dt.datetime(2024, 6, 30)
    assert workbook["Trend"]["A2"].number_format == "yyyy-mm-dd"
    assert trend[-1]["dso"] == pytest.approx(DSO)
    assert len(rows(workbook["Aging by customer"])) == 3


def test_xlsx_neutralises_text_that_looks_like_a_formula(workbook):
    names = {r["customer_id"]: r["name"] for r in rows(workbook["Top past due"])}
    assert names["C2"] == "'" + FORMULA and names["C1"] == EVIL
    for ws in workbook:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@"))


def test_trend_axis_labels_every_measured_month_once(pack):
    axis = report.trend_figure(pack).layout.xaxis
    ends = pd.DatetimeIndex(pack.trend["period_end"])
    assert list(axis.ticktext) == list(ends.strftime("%Y-%m"))
    assert len(axis.tickvals) == len(axis.ticktext)

"""Properties of loading: nothing is lost (control totals), and flat files round-trip."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rpmkit import money
from rpmkit.io import load

HEADER = [
    "invoice_id",
    "customer_id",
    "invoice_date",
    "due_date",
    "amount",
    "currency",
    "paid_date",
]
CURRENCIES = ("USD", "JPY", "KWD", "EUR")
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

dates = st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2030, 12, 31))


@st.composite
def good_rows(draw, i: int):
    cur = draw(st.sampled_from(CURRENCIES))
    minor = draw(st.integers(min_value=1, max_value=10**11))
    inv = draw(dates)
    due = inv + dt.timedelta(days=draw(st.integers(0, 120)))
    paid = draw(st.one_of(st.none(), st.integers(0, 400).map(lambda d: inv + dt.timedelta(days=d))))
    return {
        "invoice_id": f"I{i}",
        "customer_id": draw(st.sampled_from(["C1", "C2", "Cé", "C-4"])),
        "invoice_date": inv.isoformat(),
        "due_date": due.isoformat(),
        "amount": money.format_amounts(pd.Series([minor]), cur).iloc[0],
        "currency": cur,
        "paid_date": paid.isoformat() if paid else "",
        "_minor": minor,
    }


CORRUPTIONS = {
    "amount_not_number": lambda r: {**r, "amount": "12x"},
    "amount_too_many_decimals": lambda r: {
        **r,
        "amount": r["amount"] + "001" if "." in r["amount"] else r["amount"] + ".5",
    },
    "bad_date": lambda r: {**r, "invoice_date": "2024-02-31"},
    "ambiguous_date": lambda r: {**r, "due_date": "03/04/2031"},
    "unknown_currency": lambda r: {**r, "currency": "ABC"},
    "id_float": lambda r: {**r, "invoice_id": r["invoice_id"][1:] + ".0"},
    "missing_value": lambda r: {**r, "customer_id": ""},
    "due_before_invoice": lambda r: {**r, "due_date": "2014-12-31"},
    "amount_not_positive": lambda r: {**r, "amount": "-" + r["amount"]},
}

kinds = st.sampled_from(["good"] * 6 + list(CORRUPTIONS) + ["exact", "conflict", "blank", "total"])


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for r in rows:
            w.writerow([r.get(c, "") for c in HEADER])


@SETTINGS
@given(st.data())
def test_control_totals_hold_on_random_mixes_of_good_and_bad_rows(data):
    n = data.draw(st.integers(1, 40))
    rows: list[dict] = []
    fate: list[str] = []  # per written row: loaded / rejected / skipped / blank
    for i in range(n):
        kind = data.draw(kinds)
        base = data.draw(good_rows(i))
        earlier = [j for j, f in enumerate(fate) if f == "loaded"]
        if kind == "good":
            rows.append(base)
            fate.append("loaded")
        elif kind in CORRUPTIONS:
            rows.append(CORRUPTIONS[kind](base))
            fate.append("rejected")
        elif kind == "exact" and earlier:
            rows.append(dict(rows[data.draw(st.sampled_from(earlier))]))
            fate.append("skipped")
        elif kind == "conflict" and earlier:
            j = data.draw(st.sampled_from(earlier))
            rows.append({**rows[j], "customer_id": rows[j]["customer_id"] + "x"})
            fate.append("rejected")
            fate[j] = "rejected"
            # Exact copies of the first row keep being skipped, all others are rejected.
        elif kind == "blank":
            rows.append({c: "" for c in HEADER})
            fate.append("blank")
        else:
            rows.append({"invoice_id": "Total", "amount": "1.00"})
            fate.append("rejected")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "mix.csv"
        write_csv(path, rows)
        if all(f == "blank" for f in fate):
            return
        result = load(path)
    m = result.manifest
    assert m.reconciled
    counts = m.counts["invoices"]
    assert counts["input"] == sum(f != "blank" for f in fate)
    assert counts["blank_rows"] == fate.count("blank")
    assert counts["input"] == counts["loaded"] + counts["rejected"] + counts["skipped"]
    # Conflicts turn copies of a loaded row into rejects; otherwise the fates are exact.
    loaded_ids = set(result.ledger.invoices["invoice_id"])
    expected_ids = {rows[i]["invoice_id"] for i, f in enumerate(fate) if f == "loaded"}
    conflicted = {r["invoice_id"] for r, f in zip(rows, fate, strict=True) if f == "rejected"}
    assert loaded_ids == expected_ids - conflicted
    for row in m.totals:
        assert row["input_rows"] == row["loaded_rows"] + row["rejected_rows"] + row["skipped_rows"]
        assert (
            row["input_amount"]
            == row["loaded_amount"] + row["rejected_amount"] + row["skipped_amount"]
        )
    rejected_lines = set(result.rejects["line"].astype(int))
    for i, f in enumerate(fate):
        if f == "rejected":
            assert i + 2 in rejected_lines
        if f == "blank":
            assert i + 2 not in rejected_lines


@SETTINGS
@given(st.data())
def test_flat_file_round_trips_through_the_ledger(data):
    n = data.draw(st.integers(1, 25))
    rows = [data.draw(good_rows(i)) for i in range(n)]
    with_disputed = data.draw(st.booleans())
    if with_disputed:
        for r in rows:
            r["disputed"] = data.draw(st.sampled_from(["true", "false"]))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "flat.csv"
        header = HEADER + (["disputed"] if with_disputed else [])
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for r in rows:
                w.writerow([r[c] for c in header])
        result = load(path)
    assert result.rejects.empty, result.rejects.to_string()
    flat = result.ledger.to_flat().set_index("invoice_id").loc[[r["invoice_id"] for r in rows]]
    assert flat["customer_id"].tolist() == [r["customer_id"] for r in rows]
    assert flat["invoice_date"].dt.strftime("%Y-%m-%d").tolist() == [
        r["invoice_date"] for r in rows
    ]
    assert flat["due_date"].dt.strftime("%Y-%m-%d").tolist() == [r["due_date"] for r in rows]
    assert flat["amount"].tolist() == [r["_minor"] for r in rows]
    assert flat["currency"].tolist() == [r["currency"] for r in rows]
    paid = flat["paid_date"].dt.strftime("%Y-%m-%d").fillna("").tolist()
    assert paid == [r["paid_date"] for r in rows]
    if with_disputed:
        assert flat["disputed"].tolist() == [r["disputed"] == "true" for r in rows]

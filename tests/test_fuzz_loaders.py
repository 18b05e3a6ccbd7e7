"""Byte fuzzing of the CSV, Excel and Parquet loaders (short run; the long one is fuzz/loaders.py).

Only a ``LoadError`` or a reconciled ``LoadResult`` may come out of ``load``
on a damaged file, within 5 s. Inputs that once crashed are kept in
``tests/data/fuzz`` and must keep loading cleanly.
"""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from rpmkit.io import LoadError, load

ROOT = Path(__file__).resolve().parents[1]
FUZZ = Path(__file__).parent / "data" / "fuzz"


def _harness():
    spec = importlib.util.spec_from_file_location(
        "rpmkit_fuzz_loaders", ROOT / "fuzz" / "loaders.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _harness()
SEEDS = {fmt: make() for fmt, make in harness.SEEDS.items()}
# Bounded for the normal suite: about 15 s per format on the shared development machine.
SHORT = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _check(data: bytes, suffix: str) -> str:
    out = harness.load_bytes(data, suffix)
    assert out.kind in ("result", "load_error"), f"{out.kind}: {out.detail}"
    assert out.seconds < harness.DEADLINE
    return out.kind


@pytest.mark.parametrize("fmt", harness.FORMATS)
def test_seed_files_load(fmt):
    """The undamaged seeds load (so the fuzzer starts from files that reach validation)."""
    assert _check(SEEDS[fmt], "." + fmt) == "result"


@pytest.mark.parametrize("fmt", harness.FORMATS)
def test_fuzz_loader(fmt):
    @SHORT
    @given(ops=harness.mutations(fmt))
    def run(ops):
        _check(harness.mutate(fmt, SEEDS[fmt], ops), "." + fmt)

    run()


def test_mutations_really_damage_the_files():
    """The operators do what they say (a fuzzer whose mutations are no-ops proves nothing)."""
    csv = SEEDS["csv"]
    assert harness.truncate(csv, 10) == csv[:10]
    assert harness.bit_flip(b"\x00", 0, 3) == b"\x08"
    assert harness.mutate("csv", csv, [("swap", (b",", b";"))]).count(b";") == csv.count(b",")
    before = harness._zip_members(SEEDS["xlsx"])
    after = harness._zip_members(harness.mutate("xlsx", SEEDS["xlsx"], [("drop", 0)]))
    assert [n for n, _ in after] == [n for n, _ in before[1:]]
    pq = harness.mutate("parquet", SEEDS["parquet"], [("magic", b"PARE")])
    assert pq[-4:] == b"PARE" and pq[:-4] == SEEDS["parquet"][:-4]


# --------------------------------------------------------------------------- regressions
def test_csv_header_the_csv_module_refuses(tmp_path):
    """Found by fuzzing: an EBCDIC-re-encoded file with a bare CR in the header.

    ``csv.reader`` raised ``_csv.Error`` (new-line character seen in unquoted
    field) out of ``load``; the header is now split plainly and the file
    reaches validation, which finds no usable columns.
    """
    with pytest.raises(LoadError) as info:
        load(FUZZ / "csv_header_newline_in_unquoted_field.csv")
    assert set(info.value.reasons) == {"missing_column"}


def test_csv_header_field_over_the_csv_module_limit(tmp_path):
    """A header cell over ``csv.field_size_limit()`` (131072) is not a crash either."""
    path = tmp_path / "wide.csv"
    path.write_text("invoice_id," + "x" * 200_000 + "\nA1,b\n")
    with pytest.raises(LoadError) as info:
        load(path)
    assert set(info.value.reasons) == {"missing_column"}


def test_xlsx_sheet_that_is_not_well_formed_xml():
    """Found by fuzzing: openpyxl's lazy sheet parser raised ``xml.etree`` ParseError."""
    with pytest.raises(LoadError) as info:
        load(FUZZ / "xlsx_sheet_xml_not_well_formed.xlsx")
    assert info.value.reasons == ["unreadable_file"]
    assert "cannot read the workbook" in info.value.problems[0]["message"]


def test_xlsx_damaged_inside_a_ledger_folder(tmp_path):
    """A broken workbook in a folder is a problem of that file, not an exception."""
    (tmp_path / "invoices.xlsx").write_bytes(SEEDS["xlsx"][:500])
    with pytest.raises(LoadError) as info:
        load(tmp_path)
    assert info.value.reasons == ["unreadable_file"]
    assert info.value.problems[0]["source"].endswith("invoices.xlsx")


def test_xlsx_declared_dimension_is_not_trusted(tmp_path):
    """A sheet claiming ``A1:XFD3001`` had every row padded to 16,384 cells.

    A 73 kB workbook of 3,000 rows took 9.5 s to load that way; without
    trusting the declared size it takes well under a second.
    """
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(harness.HEADER.split(",")[:6])
    for i in range(3000):
        ws.append([f"A{i}", "C1", dt.date(2024, 1, 5), dt.date(2024, 2, 4), 10, "USD"])
    buf = io.BytesIO()
    wb.save(buf)
    old, new = b'<dimension ref="A1:F3001" />', b'<dimension ref="A1:XFD3001" />'
    members = [(n, b.replace(old, new)) for n, b in harness._zip_members(buf.getvalue())]
    assert any(new in b for _, b in members)
    out = harness.load_bytes(harness._zip(members), ".xlsx")
    assert out.kind == "result" and out.seconds < 3, out


def test_xlsx_zip_bomb_is_refused_before_parsing(tmp_path):
    members = harness._zip_members(SEEDS["xlsx"])
    members.append(("xl/media/padding.bin", b"\x00" * (80 << 20)))
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(harness._zip(members))
    assert path.stat().st_size < 1 << 20
    with pytest.raises(LoadError) as info:
        load(path)
    assert info.value.reasons == ["unreadable_file"]
    assert "zip bomb" in info.value.problems[0]["message"]


def test_parquet_with_damaged_footer_length(tmp_path):
    data = harness.footer_op(SEEDS["parquet"], ("footer_len", 2**32 - 1))
    out = harness.load_bytes(data, ".parquet")
    assert out.kind == "load_error" and out.detail == "unreadable_file"


def test_truncated_parquet_is_unreadable_not_header_only(tmp_path):
    """An unreadable file is reported as such, without a misleading ``header_only``."""
    path = tmp_path / "cut.parquet"
    path.write_bytes(SEEDS["parquet"][:-100])
    with pytest.raises(LoadError) as info:
        load(path)
    assert info.value.reasons == ["unreadable_file"]


def test_xlsx_entity_expansion_is_refused(tmp_path):
    """A billion-laughs DTD in a sheet is not expanded (openpyxl parses through defusedxml)."""
    dtd = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY a%d "%s">' % (i + 1, (b"&a%d;" % i if i else b"&a;") * 10) for i in range(9)
        )
        + b"]>"
    )
    members = harness._zip_members(SEEDS["xlsx"])
    members = [
        (n, dtd + b.split(b"?>", 1)[-1] if n.endswith("sheet1.xml") else b) for n, b in members
    ]
    assert any(b.startswith(b'<?xml version="1.0"?><!DOCTYPE') for _, b in members)
    out = harness.load_bytes(harness._zip(members), ".xlsx")
    assert out.kind == "load_error" and out.detail == "unreadable_file", out
    assert out.seconds < 1

"""The ledger cache: the same ledger back from mapped Arrow files, and never a stale one.

Each test uses its own cache folder. Invalidation is tested the hard way: a file
rewritten with the same size and modification time but other bytes must give a new
key and the new numbers.
"""

from __future__ import annotations

import os
import shutil
import threading

import pandas as pd
import pytest

from rpmkit.cache import cached_ledger, read_entry, source_key, write_entry
from rpmkit.ledger import TABLE_ORDER
from rpmkit.ui import ARDashboardApp
from rpmkit.ui.loading import NOT_FOUND, load_friendly, load_ledger

FLAT = (
    "Invoice No,Customer,Invoice Date,Due Date,Amount,Paid Date\n"
    "A1,C1,2024-01-05,2024-02-04,100.00,2024-02-01\n"
    "A2,C2,2024-01-09,2024-02-08,250.50,\n"
)


@pytest.fixture
def store(tmp_path):
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory):
    """A small generated ledger folder in CSV (the format people export)."""
    from rpmkit.synth import generate
    from rpmkit.writers import write_ledger

    folder = tmp_path_factory.mktemp("ledger") / "generated"
    write_ledger(generate(customers=25, years=1.0, seed=11).ledger, folder, format="csv")
    return folder


def _rewrite_keeping_size_and_time(path, old: str, new: str) -> None:
    assert len(old) == len(new)
    stat = path.stat()
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size


def test_a_cached_ledger_equals_the_loaded_one(sample_copy, store):
    loaded = load_friendly(sample_copy)[0].ledger
    first = cached_ledger(sample_copy, cache=store)
    second = cached_ledger(sample_copy, cache=store)
    assert (first.hit, second.hit) == (False, True)
    assert first.key == second.key and len(first.key) == 40
    for ledger in (first.ledger, second.ledger):
        assert ledger.reporting_currency == loaded.reporting_currency
        for name in TABLE_ORDER:
            pd.testing.assert_frame_equal(getattr(ledger, name), getattr(loaded, name))
    # one entry, complete, and nothing half-written left behind
    entries = [p.name for p in store.iterdir() if not p.name.endswith(".lock")]
    assert entries == [first.key]
    assert sorted(p.name for p in (store / first.key).iterdir()) == sorted(
        [f"{n}.arrow" for n in TABLE_ORDER] + ["meta.json"]
    )


def test_the_dashboard_shows_the_same_numbers_from_the_cache(sample_copy, store, monkeypatch):
    monkeypatch.setenv("RPMKIT_CACHE_DIR", str(store))
    fresh = ARDashboardApp(load_friendly(sample_copy)[0].ledger)
    cold = ARDashboardApp.from_source(str(sample_copy))
    warm = ARDashboardApp.from_source(str(sample_copy))
    assert len(list(store.glob("*/meta.json"))) == 1
    for app in (cold, warm):
        for key, tile in fresh.tiles.items():
            assert app.tiles[key].value_text == tile.value_text, key
        for mine, theirs in zip(app.figure.data, fresh.figure.data, strict=True):
            assert list(mine.y) == list(theirs.y)


def test_a_changed_file_is_loaded_again(tmp_path, store):
    source = tmp_path / "ar.csv"
    source.write_text(FLAT)
    before = cached_ledger(source, cache=store)
    assert before.ledger.invoices["amount"].tolist() == [10000, 25050]
    # same size, same modification time, other bytes
    _rewrite_keeping_size_and_time(source, "250.50", "999.99")
    after = cached_ledger(source, cache=store)
    assert after.key != before.key and not after.hit
    assert after.ledger.invoices["amount"].tolist() == [10000, 99999]
    assert cached_ledger(source, cache=store).hit


def test_a_changed_table_of_a_folder_is_loaded_again(sample_copy, tmp_path, store):
    folder = tmp_path / "ledger"
    shutil.copytree(sample_copy, folder)
    before = cached_ledger(folder, cache=store)
    invoices = folder / "invoices.csv"
    first_line = invoices.read_text().splitlines()[1]
    fields = first_line.split(",")
    amount = fields[4]  # e.g. 8436.78: change the last digit of the cents
    digit = "1" if amount[-1] == "0" else "0"
    fields[4] = amount[:-1] + digit
    _rewrite_keeping_size_and_time(invoices, first_line, ",".join(fields))
    after = cached_ledger(folder, cache=store)
    assert after.key != before.key and not after.hit
    invoice = fields[0]
    old_row = before.ledger.invoices.set_index("invoice_id").loc[invoice, "amount"]
    new_row = after.ledger.invoices.set_index("invoice_id").loc[invoice, "amount"]
    assert new_row - old_row == int(digit) - int(amount[-1])
    # a file added to the folder is a change too
    (folder / "notes.txt").write_text("x")
    assert source_key(folder) not in {before.key, after.key}


def test_the_key_covers_the_preset_and_the_version(tmp_path, monkeypatch):
    source = tmp_path / "ar.csv"
    source.write_text(FLAT)
    assert source_key(source) != source_key(source, "ibm-ar")
    key = source_key(source)
    monkeypatch.setattr("rpmkit.cache.__version__", "0.0.0-other")
    assert source_key(source) != key


def test_sources_that_are_not_files_are_not_cached(tmp_path, store):
    assert source_key("postgresql://server/ar") is None
    assert source_key(tmp_path / "missing.csv") is None
    assert source_key([tmp_path / "a.csv"]) is None
    assert source_key(tmp_path / "a.csv", preset=object()) is None


def test_a_damaged_entry_is_bypassed(tmp_path, store):
    source = tmp_path / "ar.csv"
    source.write_text(FLAT)
    key = cached_ledger(source, cache=store).key
    (store / key / "invoices.arrow").write_bytes(b"not arrow")
    again = cached_ledger(source, cache=store)
    assert not again.hit and again.ledger.invoices["amount"].tolist() == [10000, 25050]
    assert cached_ledger(source, cache=store).hit  # the entry was written again


def test_a_second_writer_finds_the_entry_taken(tmp_path, store):
    ledger = load_friendly(_flat(tmp_path))[0].ledger
    write_entry(ledger, store / "k")
    with pytest.raises(FileExistsError):
        write_entry(ledger, store / "k")
    assert read_entry(store / "k").invoices["amount"].tolist() == [10000, 25050]
    assert [p.name for p in store.iterdir()] == ["k"]  # no temporary folder left


def test_kernels_starting_together_load_once(tmp_path, store):
    source = _flat(tmp_path)
    loads = []

    def counting_load(src, preset):
        loads.append(src)
        return load_friendly(src, preset)[0].ledger

    results = [None] * 6

    def kernel(i: int) -> None:
        results[i] = cached_ledger(source, cache=store, load=counting_load)

    threads = [threading.Thread(target=kernel, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1
    assert sum(r.hit for r in results) == 5
    assert all(r.ledger.invoices["amount"].tolist() == [10000, 25050] for r in results)


def test_the_cache_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("RPMKIT_CACHE_DIR", "off")
    found = cached_ledger(_flat(tmp_path))
    assert found.key is None and not found.hit and len(found.ledger.invoices) == 2


def test_load_ledger_keeps_the_friendly_messages(tmp_path, monkeypatch):
    monkeypatch.setenv("RPMKIT_CACHE_DIR", str(tmp_path / "cache"))
    assert load_ledger(tmp_path / "nowhere") == (None, NOT_FOUND)
    broken = tmp_path / "broken.csv"
    broken.write_text("just,a,header\n")
    ledger, message = load_ledger(broken)
    assert ledger is None
    assert message == load_friendly(broken)[1] and message.startswith("The ledger could not")
    assert str(tmp_path) not in message
    assert not list((tmp_path / "cache").glob("*/meta.json"))  # a failure is not cached


def _flat(tmp_path):
    source = tmp_path / "ar.csv"
    source.write_text(FLAT)
    return source

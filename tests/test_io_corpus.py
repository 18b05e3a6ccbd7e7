"""Every file of the bad-input corpus gives exactly the rejects and control totals of cases.yaml."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from rpmkit.io import LoadError, load

BAD = Path(__file__).parent / "data" / "bad"
CASES = yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))
STAGES = ("loaded", "rejected", "skipped")


def _case_id(case: dict) -> str:
    opts = case.get("options") or {}
    return case["file"] + ("[" + ",".join(sorted(opts)) + "]" if opts else "")


def test_corpus_is_large_enough():
    names = {p.name for p in BAD.iterdir() if p.name not in ("make_corpus.py", "cases.yaml")}
    assert len(names) >= 60
    assert names <= {c["file"] for c in CASES}, "every corpus file has a case"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_corpus_case(case):
    options = dict(case.get("options") or {})
    mapping = options.pop("mapping", None)
    source = BAD / case["file"]
    if "error" in case:
        with pytest.raises(LoadError) as info:
            load(source, mapping=mapping, **options)
        assert set(info.value.reasons) == set(case["error"])
        for p in info.value.problems:
            assert p["message"], "every problem explains itself"
        return

    result = load(source, mapping=mapping, **options)
    got = Counter(
        (t, int(line), reason)
        for t, line, reason in result.rejects[["table", "line", "reason"]].itertuples(index=False)
    )
    want = Counter((t, line, reason) for t, line, reason in case["rejects"])
    assert got == want

    assert result.manifest.reconciled
    totals = {(r["table"], r["currency"]): r for r in result.manifest.totals}
    expected = case["totals"]
    want_keys = {(t, cur) for t, by_cur in expected.items() for cur in by_cur}
    assert set(totals) == want_keys
    for (table, cur), row in totals.items():
        spec = expected[table][cur]
        for stage in STAGES:
            rows, amount = spec.get(stage, [0, 0])
            assert (row[f"{stage}_rows"], row[f"{stage}_amount"]) == (rows, amount), (
                table,
                cur,
                stage,
            )
        assert row["balanced"]
        assert row["input_rows"] == sum(spec.get(s, [0, 0])[0] for s in STAGES)

    facts = case.get("manifest") or {}
    sources = result.manifest.sources
    for key in ("encoding", "delimiter", "date_system"):
        if key in facts:
            assert {s.get(key) for s in sources} == {facts[key]}
    for column, fmt in (facts.get("detected") or {}).items():
        assert result.manifest.date_formats[column]["detected"] == fmt

    # Every reject explains itself and keeps the raw row.
    assert result.rejects["message"].notna().all()
    assert result.rejects["record"].notna().all()
    # What loaded passes the ledger's own checks.
    result.ledger.check()


def test_make_corpus_reproduces_the_committed_files(tmp_path, monkeypatch):
    """The binary cases really come from make_corpus.py (fixed timestamps, no clock)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("rpmkit_make_corpus", BAD / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.main()
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(made) >= 60
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (BAD / rel).read_bytes(), rel

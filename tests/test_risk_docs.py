"""The examples of docs/risk.md run, in order, in one namespace."""

from pathlib import Path

from doc_examples import python_blocks, run_examples

DOC = Path(__file__).resolve().parents[1] / "docs" / "risk.md"


def test_every_python_example_runs():
    text = DOC.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    assert len(blocks) >= 6, "docs/risk.md lost its ```python examples"
    run_examples(DOC, blocks, "docs_risk")


def test_the_page_states_the_replay_assumption_and_the_references():
    text = DOC.read_text(encoding="utf-8")
    assert "Assumption, stated plainly" in text
    for ref in ("0.85", "0.69", "0.84", "0.76", "4.11"):
        assert ref in text

"""The examples of docs/forecasting.md run, in order, in one namespace; its figures are current."""

from pathlib import Path

from doc_examples import python_blocks, run_examples

DOC = Path(__file__).resolve().parents[1] / "docs" / "forecasting.md"


def test_every_python_example_runs():
    text = DOC.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    assert blocks, "docs/forecasting.md lost its ```python example"
    run_examples(DOC, blocks, "docs_forecasting")


def test_doc_defines_the_measures_and_names_every_baseline():
    from rpmkit.forecast import BASELINES

    text = DOC.read_text(encoding="utf-8")
    assert "Σ |actual − P50| ÷ Σ actual" in text
    for name in BASELINES:
        assert f"`{name}`" in text
    assert "WAPE_BY_WEEK" not in text, "a placeholder was left in the page"

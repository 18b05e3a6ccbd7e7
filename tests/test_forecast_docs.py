"""The examples of docs/forecasting.md run, in order, in one namespace; its figures are current."""

import re
import textwrap
import traceback
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "forecasting.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def test_every_python_example_runs():
    text = DOC.read_text(encoding="utf-8")
    blocks = [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in FENCE.finditer(text)]
    assert blocks, "docs/forecasting.md lost its ```python example"
    namespace: dict = {"__name__": "docs_forecasting"}
    for line, code in blocks:
        try:
            exec(compile("\n" * (line - 1) + code, str(DOC), "exec"), namespace)
        except Exception:
            error = traceback.format_exc()
        else:
            continue
        pytest.fail(
            f"the example at docs/forecasting.md line {line} failed:\n\n"
            f"{textwrap.indent(code, '    ')}\n{error}",
            pytrace=False,
        )


def test_doc_defines_the_measures_and_names_every_baseline():
    from rpmkit.forecast import BASELINES

    text = DOC.read_text(encoding="utf-8")
    assert "Σ |actual − P50| ÷ Σ actual" in text
    for name in BASELINES:
        assert f"`{name}`" in text
    assert "WAPE_BY_WEEK" not in text, "a placeholder was left in the page"

"""The examples of docs/risk.md run, in order, in one namespace."""

import re
import textwrap
import traceback
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "risk.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def test_every_python_example_runs():
    text = DOC.read_text(encoding="utf-8")
    blocks = [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in FENCE.finditer(text)]
    assert len(blocks) >= 6, "docs/risk.md lost its ```python examples"
    namespace: dict = {"__name__": "docs_risk"}
    for line, code in blocks:
        try:
            exec(compile("\n" * (line - 1) + code, str(DOC), "exec"), namespace)
        except Exception:
            error = traceback.format_exc()
        else:
            continue
        pytest.fail(
            f"the example at docs/risk.md line {line} failed:\n\n"
            f"{textwrap.indent(code, '    ')}\n{error}",
            pytrace=False,
        )


def test_the_page_states_the_replay_assumption_and_the_references():
    text = DOC.read_text(encoding="utf-8")
    assert "Assumption, stated plainly" in text
    for ref in ("0.85", "0.69", "0.84", "0.76", "4.11"):
        assert ref in text

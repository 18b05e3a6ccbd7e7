"""The examples of docs/behaviour.md run, in order, in one namespace."""

import re
import textwrap
import traceback
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "behaviour.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """Every ```python block of ``text`` with the line its code starts on."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in FENCE.finditer(text)]


def test_python_blocks_are_found():
    blocks = python_blocks("x\n```python\na = 1\n```\n```text\nno\n```\n```python\nb = 2\n```\n")
    assert blocks == [(3, "a = 1\n"), (9, "b = 2\n")]


def test_every_python_example_runs():
    blocks = python_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 10, "docs/behaviour.md lost its ```python examples"
    namespace: dict = {"__name__": "docs_behaviour"}
    for line, code in blocks:
        try:
            # leading blank lines make tracebacks give the line in the page
            exec(compile("\n" * (line - 1) + code, str(DOC), "exec"), namespace)
        except Exception:
            error = traceback.format_exc()
        else:
            continue
        pytest.fail(
            f"the example at docs/behaviour.md line {line} failed:\n\n"
            f"{textwrap.indent(code, '    ')}\n{error}",
            pytrace=False,
        )

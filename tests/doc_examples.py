"""Run a Markdown page's ```python examples in order, in one namespace, as a test."""

from __future__ import annotations

import re
import textwrap
import traceback
from pathlib import Path

import pytest

FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """Every ```python block of ``text`` with the line its code starts on."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in FENCE.finditer(text)]


def run_examples(doc: Path, blocks: list[tuple[int, str]], name: str) -> None:
    """Execute ``blocks`` of ``doc``; fail naming the page line of the first that raises."""
    namespace: dict = {"__name__": name}
    for line, code in blocks:
        try:
            # leading blank lines make tracebacks give the line in the page
            exec(compile("\n" * (line - 1) + code, str(doc), "exec"), namespace)
        except Exception:
            error = traceback.format_exc()
        else:
            continue
        pytest.fail(
            f"the example at docs/{doc.name} line {line} failed:\n\n"
            f"{textwrap.indent(code, '    ')}\n{error}",
            pytrace=False,
        )

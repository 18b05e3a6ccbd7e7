"""The examples of docs/behaviour.md run, in order, in one namespace."""

from pathlib import Path

from doc_examples import python_blocks, run_examples

DOC = Path(__file__).resolve().parents[1] / "docs" / "behaviour.md"


def test_python_blocks_are_found():
    blocks = python_blocks("x\n```python\na = 1\n```\n```text\nno\n```\n```python\nb = 2\n```\n")
    assert blocks == [(3, "a = 1\n"), (9, "b = 2\n")]


def test_every_python_example_runs():
    blocks = python_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 10, "docs/behaviour.md lost its ```python examples"
    run_examples(DOC, blocks, "docs_behaviour")

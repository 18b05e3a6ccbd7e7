"""Docs that must stay in step with the code."""

from pathlib import Path

import pytest

from rpmkit.schema import FLAT_INVOICE, REASONS, TABLES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("table", [*TABLES.values(), FLAT_INVOICE], ids=lambda t: t.name)
def test_data_model_documents_every_column(table):
    text = (ROOT / "docs" / "data-model.md").read_text()
    section = text.split(f"### `{table.name}`", 1)
    assert len(section) == 2, f"docs/data-model.md has no section for {table.name}"
    body = section[1].split("\n### ", 1)[0]
    for column in table.columns:
        assert f"| `{column.name}` |" in body, f"{table.name}.{column.name} undocumented"


def test_loading_doc_lists_every_reason_code():
    text = (ROOT / "docs" / "loading.md").read_text()
    missing = [code for code in REASONS if f"`{code}`" not in text]
    assert not missing, f"docs/loading.md does not explain: {missing}"

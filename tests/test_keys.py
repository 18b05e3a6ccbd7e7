"""``rpmkit.keys``: string-key lookups through Arrow, whatever form the keys come in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from rpmkit import keys

words = st.text(alphabet="AB01-é ", max_size=6)


@settings(max_examples=60, deadline=None)
@given(table=st.lists(words, min_size=1, max_size=30), probe=st.lists(words, max_size=60))
def test_positions_is_the_first_match_or_minus_one(table, probe):
    got = keys.positions(pd.Series(probe, dtype="str"), pd.Series(table, dtype="str"))
    first = {}
    for i, t in enumerate(table):
        first.setdefault(t, i)
    assert got.tolist() == [first.get(p, -1) for p in probe]


def test_any_string_form_and_missing_keys():
    table = ["INV-3", "INV-1", "INV-3", "INV-2"]
    expected = [0, -1, 3, 1, -1]
    probe = ["INV-3", "INV-9", "INV-2", "INV-1", None]
    forms = [
        pd.Series(probe, dtype="str"),
        pd.Series(probe, dtype="string[pyarrow]"),
        pd.Series(probe, dtype=object),
        pa.array(probe, pa.string()),
        pa.chunked_array(
            [pa.array(probe[:2], pa.large_string()), pa.array(probe[2:], pa.large_string())]
        ),
    ]
    for form in forms:
        assert keys.positions(form, pd.Series(table)).tolist() == expected, type(form)
    chunked_table = pa.chunked_array([pa.array(table[:1]), pa.array(table[1:])])
    assert keys.positions(probe, chunked_table).tolist() == expected


def test_lookup_and_isin():
    ids = pd.Series(["a", "b"])
    values = pd.Series([10, 20])
    assert keys.lookup(pd.Series(["b", "x", "a"]), ids, values).tolist()[::2] == [20, 10]
    assert keys.isin(pd.Series(["b", "x"]), ids).tolist() == [True, False]
    assert np.array_equal(keys.positions(pd.Series([], dtype="str"), ids), np.array([]))

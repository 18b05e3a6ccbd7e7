"""``rpmkit.keys.positions``: the fixed-width integer path answers exactly as Arrow's hash join."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rpmkit import keys


def arrow_positions(k, t) -> np.ndarray:
    idx = pc.index_in(pa.array(k, pa.large_string()), value_set=pa.array(t, pa.large_string()))
    return pc.fill_null(idx, -1).to_numpy(zero_copy_only=False)


@pytest.fixture
def fixed_path_always(monkeypatch):
    monkeypatch.setattr(keys, "_FIXED_MIN_ROWS", 0)


def strings(width: int):
    return st.text(alphabet="AB01-é", min_size=width, max_size=width).filter(
        lambda s: len(s.encode()) == width
    )


# the fixture only lowers a threshold: nothing to reset between examples
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), width=st.integers(1, 16))
def test_fixed_width_matches_arrow(fixed_path_always, data, width):
    table = data.draw(st.lists(strings(width), min_size=1, max_size=40))  # duplicates allowed
    probe = data.draw(st.lists(st.sampled_from(table) | strings(width), min_size=1, max_size=80))
    got = keys.positions(pd.Series(probe, dtype="string[pyarrow]"), pd.Series(table))
    np.testing.assert_array_equal(got, arrow_positions(probe, table))


def test_first_match_and_unknown_keys(fixed_path_always):
    table = ["INV-0003", "INV-0001", "INV-0003", "INV-0002"]
    probe = ["INV-0003", "INV-0009", "INV-0002", "INV-0001"]
    assert keys.positions(pd.Series(probe), pd.Series(table)).tolist() == [0, -1, 3, 1]


def test_mixed_widths_and_missing_keys_fall_back(fixed_path_always):
    table = ["A1", "B22", "C1"]
    probe = pd.Series(["B22", None, "C1", "ZZ"], dtype="string[pyarrow]")
    assert keys.positions(probe, pd.Series(table)).tolist() == [1, -1, 2, -1]


def test_hash_collisions_fall_back_to_arrow(fixed_path_always, monkeypatch):
    # With a zero multiplier the hash is the second word alone: keys sharing their last
    # eight bytes collide, and the answer must still be exact.
    monkeypatch.setattr(keys, "_MIX", np.uint64(0))
    table = ["AAAAAAAA00000001", "BBBBBBBB00000001", "AAAAAAAA00000002"]
    probe = ["BBBBBBBB00000001", "CCCCCCCC00000001", "AAAAAAAA00000002"]
    assert keys._fixed_positions(pa.array(probe, pa.large_string()), pa.array(table)) is None
    assert keys.positions(pd.Series(probe), pd.Series(table)).tolist() == [1, -1, 2]


def test_ledger_scale_keys_use_the_fixed_path():
    rng = np.random.default_rng(5)
    ids = [f"INV-{i:08d}" for i in range(150_000)]
    probe = [ids[i] for i in rng.integers(0, len(ids), 200_000)] + ["INV-99999999"]
    probe_arr = pa.array(probe, pa.large_string())
    fast = keys._fixed_positions(probe_arr, pa.array(ids, pa.large_string()))
    assert fast is not None
    np.testing.assert_array_equal(fast, arrow_positions(probe, ids))

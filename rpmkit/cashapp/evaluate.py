"""Scoring cash application against the true allocations.

Definitions (published, because vendors' "90 %+" rarely says which):

* **envelope auto-match rate**: share of payments auto-applied with *every*
  allocation right (same invoices, same amounts; hence the same unapplied
  cash). A payment the truth leaves entirely unapplied is right when nothing
  is applied to it.
* **line auto-match rate**: share of true allocation lines (payment, invoice,
  amount) auto-applied exactly.
* **precision**: share of auto-applied allocation lines that are right.
* **error rate**: share of payments auto-applied with at least one wrong
  allocation (what a cash-application team has to find and reverse).

The curve varies the confidence threshold over one run of the engine.

Examples
--------
>>> import pandas as pd
>>> proposed = pd.DataFrame(
...     {
...         "payment_id": ["P1", "P2"],
...         "rule": ["reference", "amount_exact"],
...         "confidence": [0.99, 0.6],
...     }
... )
>>> lines = pd.DataFrame(
...     {
...         "payment_id": ["P1", "P2"],
...         "invoice_id": ["I1", "I9"],
...         "amount": [100, 50],
...         "rank": [0, 0],
...     }
... )
>>> truth = pd.DataFrame(
...     {"payment_id": ["P1", "P2"], "invoice_id": ["I1", "I2"], "amount": [100, 50]}
... )
>>> score(proposed, lines, truth, threshold=0.5)[["envelope_rate", "precision", "error_rate"]]
envelope_rate    0.5
precision        0.5
error_rate       0.5
dtype: float64
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NOISE_TYPES", "by_group", "by_rule", "correctness", "curve", "score"]

NOISE_TYPES = (
    "payer_name",
    "typo",
    "missing_reference",
    "extra_reference",
    "leading_zeros",
    "po_reference",
    "multi_reference",
    "truncated",
)
THRESHOLDS = np.round(np.linspace(0.0, 1.0, 101), 2)


def _line_keys(frame: pd.DataFrame) -> pd.Series:
    return (
        frame["payment_id"].astype(str)
        + "|"
        + frame["invoice_id"].astype(str)
        + "|"
        + frame["amount"].astype(np.int64).astype(str)
    )


def correctness(proposed: pd.DataFrame, lines: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per payment: confidence, proposed lines, right lines and whether the envelope is right.

    ``truth`` holds the true allocations (``payment_id, invoice_id, amount``
    in minor units); ``lines`` the engine's lines with ``rank`` 0 for the
    proposal.
    """
    best = lines[lines["rank"] == 0]
    true_keys = set(_line_keys(truth))
    right = _line_keys(best).isin(true_keys).to_numpy()
    per = pd.DataFrame({"payment_id": best["payment_id"].to_numpy(), "right": right})
    g = per.groupby("payment_id", observed=True)["right"]
    n_lines = g.size()
    n_right = g.sum()
    n_true = truth.groupby("payment_id", observed=True).size()
    out = proposed[["payment_id", "rule", "confidence"]].copy()
    pid = out["payment_id"]
    out["lines"] = pid.map(n_lines).fillna(0).astype(np.int64).to_numpy()
    out["right_lines"] = pid.map(n_right).fillna(0).astype(np.int64).to_numpy()
    out["true_lines"] = pid.map(n_true).fillna(0).astype(np.int64).to_numpy()
    out["envelope_right"] = (out["lines"] == out["right_lines"]) & (
        out["right_lines"] == out["true_lines"]
    )
    return out


def score(
    proposed: pd.DataFrame,
    lines: pd.DataFrame,
    truth: pd.DataFrame,
    threshold: float,
    checked: pd.DataFrame | None = None,
) -> pd.Series:
    """Rates at one threshold (see the module docstring for definitions)."""
    c = correctness(proposed, lines, truth) if checked is None else checked
    return _rates(c, threshold)


def _rates(c: pd.DataFrame, threshold: float) -> pd.Series:
    auto = (c["confidence"] >= threshold) & (c["rule"] != "unmatched")
    # A payment nobody should apply is right when left unapplied.
    nothing_due = (c["true_lines"] == 0) & (c["rule"] == "unmatched")
    n = max(len(c), 1)
    auto_lines = int(c.loc[auto, "lines"].sum())
    right_auto = int(c.loc[auto, "right_lines"].sum())
    true_lines = max(int(c["true_lines"].sum()), 1)
    envelope = (auto & c["envelope_right"]) | nothing_due
    return pd.Series(
        {
            "threshold": float(threshold),
            "payments": float(len(c)),
            "auto_rate": float(auto.sum() / n),
            "envelope_rate": float(envelope.sum() / n),
            "line_rate": float(right_auto / true_lines),
            "precision": float(right_auto / auto_lines) if auto_lines else float("nan"),
            "error_rate": float((auto & ~c["envelope_right"]).sum() / n),
        }
    ).drop(["threshold", "payments"] if threshold is None else [])


def curve(checked: pd.DataFrame, thresholds=THRESHOLDS) -> pd.DataFrame:
    """Auto-match rate, error rate and precision at each threshold (default 0, 0.01, ..., 1)."""
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if ((thresholds < 0) | (thresholds > 1)).any():
        raise ValueError("thresholds must lie in [0, 1]")
    return pd.DataFrame([_rates(checked, t) for t in thresholds]).reset_index(drop=True)


def by_group(checked: pd.DataFrame, groups: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Rates per noise type (or any boolean columns of ``groups`` keyed by ``payment_id``).

    A payment counts in every group whose flag it has; ``none`` holds the
    payments with no flag at all.
    """
    flags = [c for c in groups.columns if c != "payment_id"]
    g = groups.set_index("payment_id")[flags].astype(bool)
    joined = checked.join(g, on="payment_id")
    joined[flags] = joined[flags].fillna(False).astype(bool)
    rows = {}
    for name in flags:
        part = joined[joined[name]]
        if len(part):
            rows[name] = _rates(part, threshold)
    clean = joined[~joined[flags].any(axis=1)]
    if len(clean):
        rows["none"] = _rates(clean, threshold)
    rows["all"] = _rates(joined, threshold)
    return pd.DataFrame(rows).T.drop(columns=["threshold"])


def by_rule(checked: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Rates per matching rule at ``threshold``, most frequent rule first."""
    rows = {rule: _rates(part, threshold) for rule, part in checked.groupby("rule", observed=True)}
    if not rows:
        return pd.DataFrame(columns=["payments", "auto_rate", "envelope_rate", "precision"])
    out = pd.DataFrame(rows).T.drop(columns=["threshold"])
    return out.sort_values("payments", ascending=False)

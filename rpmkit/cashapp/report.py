"""The evaluation harness: apply a ledger's own payments blind and score them.

The ledger's allocations are the ground truth; the engine sees the ledger
without them (and, with ``blank_customers=True``, without the payments'
customer ids, so payers must be found from references and names). Rates at
the threshold, the threshold curve, and breakdowns by rule and by the
generator's noise types (``truth/payments.csv`` of a synthetic ledger).

Examples
--------
>>> import rpmkit
>>> ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
>>> small = ledger.replace(payments=ledger.payments.head(400))
>>> ev = CashAppEvaluation(threshold=0.9).fit(small)
>>> bool(ev.rates_["precision"] > 0.95)
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from rpmkit.cashapp import evaluate as ev
from rpmkit.cashapp.candidates import RULES
from rpmkit.cashapp.engine import CashApplication
from rpmkit.jsonable import plain
from rpmkit.ledger import Ledger

__all__ = ["CashAppEvaluation", "evaluate_sample", "read_noise"]


def read_noise(folder: str | Path) -> pd.DataFrame | None:
    """Noise flags per payment from a synthetic ledger's ``truth/payments.csv``, if present."""
    path = Path(folder) / "truth" / "payments.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path, dtype={"payment_id": "string"})
    cols = [c for c in ev.NOISE_TYPES if c in frame.columns]
    return frame[["payment_id", *cols]].astype({c: bool for c in cols})


class CashAppEvaluation:
    """Cash application on a ledger's own payments, scored against its allocations.

    Parameters
    ----------
    threshold
        Confidence at or above which proposals are auto-applied.
    blank_customers
        Hide the payments' ``customer_id`` from the engine.
    **engine
        Further :class:`CashApplication` settings.
    """

    def __init__(
        self, threshold: float = 0.9, blank_customers: bool = False, **engine: Any
    ) -> None:
        self.engine = CashApplication(threshold=threshold, **engine)
        self.threshold = threshold
        self.blank_customers = blank_customers

    def fit(self, ledger: Ledger, noise: pd.DataFrame | None = None) -> CashAppEvaluation:
        """Apply ``ledger.payments`` to ``ledger`` without its allocations and score them."""
        payments = ledger.payments
        if self.blank_customers:
            payments = payments.assign(customer_id=pd.Series(pd.NA, index=payments.index))
        self.engine.fit(ledger, payments)
        truth = ledger.allocations
        self.checked_ = ev.correctness(self.engine.proposed_, self.engine.lines_, truth)
        self.noise_ = noise
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "checked_"):
            raise ValueError("call fit() first")

    def at(self, threshold: float) -> pd.Series:
        """Rates at another threshold, without re-running the engine."""
        self._fitted()
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        return ev._rates(self.checked_, threshold).drop(["threshold", "payments"])

    @property
    def rates_(self) -> pd.Series:
        """Envelope and line auto-match rates, precision and error rate at the threshold."""
        return self.at(self.threshold)

    @property
    def curve_(self) -> pd.DataFrame:
        """Rates over thresholds 0, 0.01, ..., 1."""
        self._fitted()
        return ev.curve(self.checked_)

    @property
    def by_rule_(self) -> pd.DataFrame:
        """Payments per rule with the rule's confidence and how often its envelope was right."""
        self._fitted()
        g = self.checked_.groupby("rule", observed=True)
        out = pd.DataFrame(
            {
                "payments": g.size(),
                "confidence": [RULES[r][0] for r in g.size().index],
                "envelope_right": g["envelope_right"].mean(),
            }
        )
        out["auto"] = out["confidence"] >= self.threshold
        return out.sort_values("payments", ascending=False)

    @property
    def by_noise_(self) -> pd.DataFrame | None:
        """Rates per noise type of the generator (``None`` without noise flags)."""
        self._fitted()
        if self.noise_ is None:
            return None
        return ev.by_group(self.checked_, self.noise_, self.threshold)

    def summary(self) -> pd.DataFrame:
        """Rates by noise type when known, else by rule."""
        by_noise = self.by_noise_
        return by_noise if by_noise is not None else self.by_rule_

    def plot(self, **kwargs):
        """The threshold trade-off curve (see :func:`rpmkit.plots.cashapp.threshold_curve`)."""
        from rpmkit.plots.cashapp import threshold_curve

        return threshold_curve(self.curve_, self.threshold, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready rates, per-rule and per-noise breakdowns and the curve."""
        by_noise = self.by_noise_
        return plain(
            {
                "threshold": self.threshold,
                "blank_customers": self.blank_customers,
                **{k: float(v) for k, v in self.rates_.items()},
                "by_rule": self.by_rule_.reset_index().to_dict(orient="records"),
                "by_noise": None
                if by_noise is None
                else by_noise.reset_index(names="noise").to_dict(orient="records"),
                "curve": self.curve_.to_dict(orient="records"),
            }
        )

    def __repr__(self) -> str:
        if not hasattr(self, "checked_"):
            return f"CashAppEvaluation(threshold={self.threshold}; not fitted)"
        r = self.rates_
        return (
            f"CashAppEvaluation(threshold={self.threshold}; {len(self.checked_):,} payments, "
            f"envelope {r['envelope_rate']:.1%}, precision {r['precision']:.2%})"
        )


def evaluate_sample(
    folder: str | Path, threshold: float = 0.9, blank_customers: bool = False
) -> CashAppEvaluation:
    """Load a synthetic ledger folder and evaluate cash application on it, noise flags included."""
    import rpmkit

    ledger = rpmkit.load(folder).ledger
    return CashAppEvaluation(threshold, blank_customers).fit(ledger, read_noise(folder))

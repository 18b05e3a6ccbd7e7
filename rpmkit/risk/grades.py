"""Customer risk grades A–E from the late-payment model, as known on an as-of date.

:class:`CustomerRisk` fits a :class:`~rpmkit.risk.models.LatePaymentModel` on
the invoices whose outcome was known at the as-of date, then scores each
customer's *next* invoice (:func:`~rpmkit.risk.features.customer_features`:
the customer's usual amount, current terms and channel, issued the day after).
The grade is the worse of two grades:

============  =============  ==========================
grade         P(late) below  expected days late below
============  =============  ==========================
A             0.30           3
B             0.50           10
C             0.70           20
D             0.90           45
E             otherwise      otherwise
============  =============  ==========================

Examples
--------
>>> import numpy as np
>>> assign_grades(np.array([0.1, 0.1, 0.5, 0.95]), np.array([1.0, 20.0, 4.0, 1.0])).tolist()
['A', 'D', 'C', 'E']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rpmkit.jsonable import plain
from rpmkit.kpi.book import book
from rpmkit.ledger import Ledger
from rpmkit.risk.features import customer_features, invoice_features
from rpmkit.risk.models import LatePaymentModel

__all__ = ["GRADES", "CustomerRisk", "GradeCutoffs", "assign_grades"]

GRADES = ("A", "B", "C", "D", "E")


@dataclass(frozen=True)
class GradeCutoffs:
    """Upper bounds of grades A–D (E is everything above).

    Parameters
    ----------
    p_late
        Four increasing probabilities in (0, 1).
    days_late
        Four increasing expected days late (> 0).
    """

    p_late: tuple[float, float, float, float] = (0.30, 0.50, 0.70, 0.90)
    days_late: tuple[float, float, float, float] = (3.0, 10.0, 20.0, 45.0)

    def __post_init__(self) -> None:
        for name, values, lo, hi in (
            ("p_late", self.p_late, 0.0, 1.0),
            ("days_late", self.days_late, 0.0, np.inf),
        ):
            v = np.asarray(values, dtype=float)
            if len(v) != 4 or not np.all(np.diff(v) > 0) or v[0] <= lo or v[-1] >= hi:
                raise ValueError(
                    f"GradeCutoffs.{name} must be four increasing values in ({lo}, {hi}); "
                    f"got {values!r}"
                )


def assign_grades(
    p_late: np.ndarray, expected_days_late: np.ndarray, cutoffs: GradeCutoffs = GradeCutoffs()
) -> np.ndarray:
    """The grade letter per row: the worse of the P(late) grade and the days-late grade."""
    by_p = np.searchsorted(np.asarray(cutoffs.p_late), np.asarray(p_late, float), side="right")
    by_d = np.searchsorted(
        np.asarray(cutoffs.days_late), np.asarray(expected_days_late, float), side="right"
    )
    return np.asarray(GRADES, dtype=object)[np.maximum(by_p, by_d)]


class CustomerRisk:
    """Risk of each customer's next invoice at an as-of date, graded A–E.

    Parameters
    ----------
    cutoffs
        Grade boundaries (:class:`GradeCutoffs`).
    threshold
        Classification threshold passed to the model.
    """

    def __init__(self, cutoffs: GradeCutoffs = GradeCutoffs(), threshold: float = 0.5) -> None:
        self.cutoffs = cutoffs
        self.threshold = threshold

    def __repr__(self) -> str:
        if not hasattr(self, "scores_"):
            return "CustomerRisk(not fitted)"
        counts = self.scores_["grade"].value_counts()
        mix = ", ".join(f"{g} {int(counts.get(g, 0))}" for g in GRADES)
        return f"CustomerRisk(as of {self.as_of_.date()}: {mix})"

    def fit(self, ledger: Ledger, as_of, model: LatePaymentModel | None = None) -> CustomerRisk:
        """Fit the model on what was known at ``as_of`` (unless given one) and grade customers.

        Sets ``model_``, ``invoice_predictions_`` (every invoice issued by
        ``as_of``, scored with its own point-in-time features) and ``scores_``
        (one row per customer: ``customer_id, name, segment, p_late,
        expected_days_late, grade, prior_settled, prior_late_share,
        prior_mean_days_late, exposure, past_due, reason``).
        """
        view = ledger.as_of(as_of)
        self.as_of_ = view.cutoff
        feats = invoice_features(view)
        self.model_ = model or LatePaymentModel(threshold=self.threshold).fit(feats)
        self.invoice_predictions_ = self.model_.predict(feats).reset_index(drop=True)
        cust = customer_features(view, self.as_of_)
        pred = self.model_.predict(cust)
        scores = cust[["customer_id", "segment"]].copy()
        names = view.customers.set_index("customer_id")["name"]
        scores.insert(1, "name", scores["customer_id"].map(names).astype("string"))
        scores["p_late"] = pred["p_late"].to_numpy()
        scores["expected_days_late"] = pred["expected_days_late"].to_numpy()
        scores["grade"] = assign_grades(
            scores["p_late"], scores["expected_days_late"], self.cutoffs
        )
        for c in (
            "prior_settled",
            "prior_late_share",
            "prior_mean_days_late",
            "exposure",
            "past_due",
        ):
            scores[c] = cust[c].to_numpy()
        scores["reason"] = _reasons(scores)
        self.scores_ = scores.sort_values(
            ["grade", "p_late"], ascending=[False, False], kind="stable"
        ).reset_index(drop=True)
        self.currency_ = view.reporting_currency
        self._book_n = book(view).n
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "scores_"):
            raise ValueError("CustomerRisk is not fitted; call fit() first")

    def summary(self) -> pd.DataFrame:
        """Per grade: customers, exposure, past due, mean P(late) and expected days late."""
        self._check_fitted()
        g = self.scores_.groupby("grade")
        out = pd.DataFrame(
            {
                "customers": g.size(),
                "exposure": g["exposure"].sum(),
                "past_due": g["past_due"].sum(),
                "p_late": g["p_late"].mean(),
                "expected_days_late": g["expected_days_late"].mean(),
            }
        ).reindex(list(GRADES))
        out["customers"] = out["customers"].fillna(0).astype(int)
        return out.fillna({"exposure": 0.0, "past_due": 0.0}).rename_axis("grade").reset_index()

    def to_dict(self) -> dict:
        """Grade summary and cut-offs, JSON-ready."""
        self._check_fitted()
        return plain(
            {
                "as_of": self.as_of_,
                "currency": self.currency_,
                "cutoffs": {"p_late": self.cutoffs.p_late, "days_late": self.cutoffs.days_late},
                "grades": self.summary().to_dict(orient="records"),
            }
        )

    def plot(self):
        """Exposure by grade (:func:`rpmkit.plots.risk.grade_bars`)."""
        from rpmkit.plots.risk import grade_bars

        self._check_fitted()
        return grade_bars(self.summary(), self.currency_)


def _reasons(scores: pd.DataFrame) -> np.ndarray:
    """One sentence per customer: what the grade rests on."""
    n = scores["prior_settled"].to_numpy()
    share = scores["prior_late_share"].to_numpy()
    mean = scores["prior_mean_days_late"].to_numpy()
    p = scores["p_late"].to_numpy()
    d = scores["expected_days_late"].to_numpy()
    history = np.where(
        n > 0,
        pd.Series(n).map("{:,.0f} settled invoices".format).to_numpy()
        + pd.Series(share * 100).map(", {:.0f} % late".format).to_numpy()
        + pd.Series(mean).map(", {:+.1f} days vs due on average".format).to_numpy(),
        "no settled invoices yet",
    )
    return (
        pd.Series(p * 100).map("P(late) {:.0f} %".format).to_numpy()
        + pd.Series(d).map(", {:.1f} expected days late; ".format).to_numpy()
        + history
    )

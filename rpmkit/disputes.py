"""Dispute analytics: what customers dispute, how long it takes, and what it costs in cash.

Built on :func:`rpmkit.kpi.dispute_kpis` (Pareto, open disputed AR, past-due
share, Kaplan–Meier resolution days) and :func:`rpmkit.survival.dispute_resolution`,
and adds the dispute rate by customer and segment, the outcome mix, DSO and
ADD with and without disputed invoices, and the cash delay attributable to
disputes: how much later disputed invoices were settled than the same
customers' undisputed invoices, in days and in amount-days.

Examples
--------
>>> import rpmkit
>>> ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
>>> d = DisputeAnalysis().fit(ledger, "2024-12-31")
>>> d
DisputeAnalysis(as of 2024-12-31; 765 disputes, 35 open)
>>> d.pareto_.index[0]
'pricing'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rpmkit import keys
from rpmkit.jsonable import number, plain
from rpmkit.kpi import add, dispute_kpis, dso
from rpmkit.kpi.book import book
from rpmkit.ledger import Ledger, to_date
from rpmkit.survival import dispute_resolution

__all__ = ["DisputeAnalysis"]


def _rates(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    g = frame.groupby(by, observed=True)
    out = pd.DataFrame(
        {
            "invoices": g.size(),
            "disputed": g["disputed"].sum(),
            "amount": g["amount_rep"].sum(),
            "disputed_amount": g["disputed_amount_rep"].sum(),
        }
    )
    out["dispute_rate"] = out["disputed"] / out["invoices"]
    out["amount_rate"] = out["disputed_amount"] / out["amount"].where(out["amount"] > 0)
    return out.sort_values("disputed", ascending=False)


class DisputeAnalysis:
    """Dispute Pareto, rates, resolution times, outcomes and cash impact at an as-of date.

    Parameters
    ----------
    period
        Period of the DSO and ADD comparison (``"month"``, ``"quarter"``, ``"year"`` or days).
    """

    def __init__(self, period: str | int = "quarter") -> None:
        self.period = period

    def fit(self, ledger: Ledger, as_of) -> DisputeAnalysis:
        """Analyse the disputes opened by ``as_of``; later resolutions count as open."""
        t = to_date(as_of)
        view = ledger.as_of(t)
        if view.disputes.empty:
            raise ValueError(f"the ledger has no disputes opened by {t.date()}")
        self.as_of_ = t
        self.currency_ = ledger.reporting_currency
        kpis = dispute_kpis(view, t)
        self.kpis_ = kpis
        self.pareto_ = kpis.tables["pareto"]
        self.resolution_ = dispute_resolution(view, t)
        d = view.disputes
        resolved = d[d["resolved_date"].notna()]
        counts = resolved["outcome"].fillna("unknown").value_counts()
        self.outcomes_ = pd.DataFrame({"disputes": counts, "share": counts / counts.sum()})
        self.open_disputes_ = int(d["resolved_date"].isna().sum())
        self._rates(view, t)
        self._cash(view, t)
        return self

    def _rates(self, view: Ledger, t: pd.Timestamp) -> None:
        inv = view.invoices
        d = view.disputes
        pos = keys.positions(d["invoice_id"], inv["invoice_id"])
        disputed = np.zeros(len(inv), dtype=bool)
        disputed[pos[pos >= 0]] = True
        d_amount = keys.group_sum(pos[pos >= 0], d["amount"].to_numpy(np.int64)[pos >= 0], len(inv))
        rep = view.to_reporting(inv["amount"], inv["currency"], inv["invoice_date"])
        d_rep = view.to_reporting(pd.Series(d_amount), inv["currency"], inv["invoice_date"])
        b = book(view)
        segment = np.asarray(b.segments, dtype=object)[b.segment]
        frame = pd.DataFrame(
            {
                "customer_id": inv["customer_id"].to_numpy(object),
                "segment": segment,
                "disputed": disputed,
                "amount_rep": rep.to_numpy() / 10 ** _exp(self.currency_),
                "disputed_amount_rep": d_rep.to_numpy() / 10 ** _exp(self.currency_),
            }
        )
        self.disputed_invoices_ = disputed
        self.dispute_rate_ = float(disputed.mean()) if len(disputed) else float("nan")
        self.by_customer_ = _rates(frame, "customer_id")
        self.by_segment_ = _rates(frame, "segment")
        clean = view.replace(
            invoices=inv[~disputed],
            allocations=view.allocations[~view.allocations["invoice_id"].isin(d["invoice_id"])],
            adjustments=view.adjustments[~view.adjustments["invoice_id"].isin(d["invoice_id"])],
            disputes=d.iloc[0:0],
        )
        rows = {}
        for label, ledger in (("all invoices", view), ("without disputed", clean)):
            rows[label] = {
                "dso": dso(ledger, t, self.period).value,
                "add": add(ledger, t, self.period).value,
                "add_invoice": add(ledger, t, self.period, method="invoice").value,
            }
        self.dso_add_ = pd.DataFrame(rows).T

    def _cash(self, view: Ledger, t: pd.Timestamp) -> None:
        """Days beyond terms of settled invoices, disputed vs the same customers' others."""
        s = view.settlement()
        paid = s["settled_date"].notna().to_numpy()
        late = (s["settled_date"] - s["due_date"]).dt.days.to_numpy(dtype=np.float64)
        frame = pd.DataFrame(
            {
                "customer_id": s["customer_id"].to_numpy(object),
                "late": late,
                "disputed": self.disputed_invoices_,
                "amount": view.to_reporting(
                    s["amount"], s["currency"], s["invoice_date"]
                ).to_numpy()
                / 10 ** _exp(self.currency_),
            }
        )[paid]
        base = frame[~frame["disputed"]].groupby("customer_id")["late"].mean()
        hit = frame[frame["disputed"]].copy()
        hit["baseline"] = hit["customer_id"].map(base).astype(np.float64)
        hit = hit.dropna(subset=["baseline"])
        hit["extra_days"] = hit["late"] - hit["baseline"]
        self.cash_delay_ = {
            "disputed_settled": len(hit),
            "mean_days_beyond_terms_disputed": number(hit["late"].mean()),
            "mean_days_beyond_terms_baseline": number(hit["baseline"].mean()),
            "extra_days": number(hit["extra_days"].mean()),
            "amount_weighted_extra_days": number(
                np.average(hit["extra_days"], weights=hit["amount"]) if len(hit) else None
            ),
            "amount_days": number((hit["extra_days"] * hit["amount"]).sum()),
        }

    # -------------------------------------------------------------- results
    def _fitted(self) -> None:
        if not hasattr(self, "as_of_"):
            raise ValueError("call fit() first")

    def summary(self) -> pd.DataFrame:
        """The headline figures, one row each."""
        self._fitted()
        k = self.kpis_
        rows = {
            "disputes": len(self.disputed_invoices_[self.disputed_invoices_]),
            "dispute_rate": self.dispute_rate_,
            "open_disputes": self.open_disputes_,
            "open_disputed_ar": k["open_disputed_ar"].value,
            "disputed_past_due_share_pct": k["disputed_past_due_share"].value,
            "resolution_median_days": k["dispute_resolution_days"].value,
            "extra_days_to_pay": self.cash_delay_["extra_days"],
        }
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def plot(self, kind: str = "pareto", **kwargs):
        """``"pareto"`` (reason codes) or ``"resolution"`` (Kaplan–Meier curve)."""
        self._fitted()
        from rpmkit.plots.cashapp import dispute_pareto

        if kind == "pareto":
            return dispute_pareto(self.pareto_, self.currency_, **kwargs)
        if kind == "resolution":
            return self.resolution_.plot(**kwargs)
        raise ValueError(f"kind must be 'pareto' or 'resolution', got {kind!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures and tables."""
        self._fitted()
        return plain(
            {
                "as_of": self.as_of_,
                "currency": self.currency_,
                "summary": {k: v for k, v in self.summary()["value"].items()},
                "pareto": self.pareto_.reset_index().to_dict(orient="records"),
                "outcomes": self.outcomes_.reset_index(names="outcome").to_dict(orient="records"),
                "by_segment": self.by_segment_.reset_index().to_dict(orient="records"),
                "dso_add": self.dso_add_.reset_index(names="invoices").to_dict(orient="records"),
                "cash_delay": self.cash_delay_,
            }
        )

    def __repr__(self) -> str:
        if not hasattr(self, "as_of_"):
            return "DisputeAnalysis(not fitted)"
        n = int(self.disputed_invoices_.sum())
        return (
            f"DisputeAnalysis(as of {self.as_of_.date()}; {n:,} disputes, "
            f"{self.open_disputes_:,} open)"
        )


def _exp(currency: str) -> int:
    from rpmkit.money import exponent

    return exponent(currency)

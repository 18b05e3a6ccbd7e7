"""Replay: does working our ranking collect more than working by amount or by age?

At each as-of date the worklist is built from what was known then. The rest of
the ledger says which open items were in fact still unpaid ``horizon_days``
later. The replay's one assumption, stated plainly: **an action on a customer
brings in its step's ``uplift`` share of the customer's covered items that would
otherwise still be unpaid at the horizon, and nothing for items that would
have been paid anyway.** Under it, the extra cash of working an action is
``uplift × Σ open amount of covered items unpaid at the horizon``, with no
random draw. Three orderings of the *same* candidate actions (same steps,
same handling minutes) are compared at equal collector hours:

* ``ranked`` — by expected cash per hour (:func:`rpmkit.worklist.rank.rank_items`);
* ``by_amount`` — largest open amount first;
* ``by_age`` — most days past due first.

Examples
--------
>>> from rpmkit.synth import generate
>>> result = WorklistReplay(hours=(2, 5)).fit(
...     generate(customers=150, years=1.5, seed=11).ledger, ["2024-04-30"]
... )
>>> list(result.summary().columns)[:4]
['hours', 'ranked', 'by_amount', 'by_age']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit import keys
from rpmkit.jsonable import plain
from rpmkit.kpi.book import book, day_number
from rpmkit.ledger import Ledger
from rpmkit.worklist.policy import DunningPolicy
from rpmkit.worklist.rank import Worklist

__all__ = ["STRATEGIES", "WorklistReplay"]

STRATEGIES = ("ranked", "by_amount", "by_age")


class WorklistReplay:
    """Extra cash collected at equal effort by three orderings, on past as-of dates.

    Parameters
    ----------
    hours
        Collector-hour budgets to compare at (per as-of date).
    policy
        Dunning policy (default :meth:`DunningPolicy.default`).
    horizon_days
        Cash counts when the item would otherwise still be unpaid this many days later.
    """

    def __init__(
        self,
        hours: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0),
        policy: DunningPolicy | None = None,
        horizon_days: int = 30,
    ) -> None:
        if not hours or min(hours) <= 0:
            raise ValueError(f"hours must be positive budgets, got {hours!r}")
        self.hours = tuple(float(h) for h in hours)
        self.policy = policy or DunningPolicy.default()
        self.horizon_days = int(horizon_days)

    def __repr__(self) -> str:
        state = f"{len(self.dates_)} dates" if hasattr(self, "dates_") else "not fitted"
        return f"WorklistReplay(hours {self.hours}, {state})"

    def fit(self, ledger: Ledger, dates) -> WorklistReplay:
        """Replay each as-of date in ``dates``; the ledger must extend past each date + horizon."""
        full = book(ledger)
        _, last = ledger.date_range()
        curves, rows = [], []
        self.dates_ = [pd.Timestamp(d) for d in dates]
        for t in self.dates_:  # a handful of dates; each one is vectorised
            if t + pd.Timedelta(days=self.horizon_days) > last:
                raise ValueError(
                    f"as-of {t.date()} + {self.horizon_days} days is beyond the ledger's last "
                    f"date {last.date()}: the outcome is unknown"
                )
            wl = Worklist(self.policy, horizon_days=self.horizon_days).fit(ledger, t)
            items = wl.items_[wl.items_["excluded"] == ""]
            horizon = int(day_number(pd.Series([t]))[0]) + self.horizon_days
            pos = keys.positions(items["invoice_id"], ledger.invoices["invoice_id"])
            unpaid = full.settled[pos] > horizon
            # only the items an action covers: those with a step of the policy
            covered = (
                self.policy.step_index(
                    items["days_past_due"].to_numpy(),
                    items["segment"].astype(str).to_numpy(dtype=object),
                    items["open_amount"].to_numpy(float),
                )
                >= 0
            )
            value = items["open_amount"].to_numpy(float) * unpaid * covered
            past_due = value * (items["days_past_due"].to_numpy() > 0)
            per_cust = (
                pd.DataFrame(
                    {"customer_id": items["customer_id"].to_numpy(), "v": value, "pd": past_due}
                )
                .groupby("customer_id")[["v", "pd"]]
                .sum()
            )
            acts = wl.all_actions_.copy()
            acts["true_cash"] = acts["customer_id"].map(per_cust["v"]).to_numpy() * acts["uplift"]
            acts["true_pd"] = acts["customer_id"].map(per_cust["pd"]).to_numpy() * acts["uplift"]
            for name, ordered in _orderings(acts).items():
                h = np.cumsum(ordered["minutes"].to_numpy()) / 60.0
                cash = np.cumsum(ordered["true_cash"].to_numpy())
                pdc = np.cumsum(ordered["true_pd"].to_numpy())
                curves.append(
                    pd.DataFrame({"as_of": t, "strategy": name, "hours": h, "cash": cash})
                )
                for budget in self.hours:
                    k = int(np.searchsorted(h, budget + 1e-9, side="right"))
                    rows.append(
                        {
                            "as_of": t,
                            "hours": budget,
                            "strategy": name,
                            "cash": float(cash[k - 1]) if k else 0.0,
                            "past_due_cash": float(pdc[k - 1]) if k else 0.0,
                        }
                    )
        self.curves_ = pd.concat(curves, ignore_index=True)
        self.results_ = pd.DataFrame(rows)
        self.currency_ = ledger.reporting_currency
        return self

    def summary(self) -> pd.DataFrame:
        """Per hour budget: extra cash of each ordering, summed over the as-of dates."""
        if not hasattr(self, "results_"):
            raise ValueError("the replay is not fitted; call fit() first")
        total = self.results_.pivot_table(
            index="hours", columns="strategy", values=["cash", "past_due_cash"], aggfunc="sum"
        )
        out = pd.DataFrame({"hours": total.index.to_numpy()})
        for s in STRATEGIES:
            out[s] = total[("cash", s)].to_numpy()
        for s in STRATEGIES:
            out[f"{s}_past_due"] = total[("past_due_cash", s)].to_numpy()
        return out

    def to_dict(self) -> dict:
        """Summary table and settings, JSON-ready."""
        return plain(
            {
                "dates": self.dates_,
                "horizon_days": self.horizon_days,
                "currency": self.currency_,
                "summary": self.summary().to_dict(orient="records"),
            }
        )

    def plot(self):
        """Cash by hours for each ordering on the first as-of date (a plotly figure)."""
        from rpmkit.plots.risk import strategy_curves

        first = self.curves_[self.curves_["as_of"] == self.dates_[0]]
        return strategy_curves(first, self.currency_)


def _orderings(acts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        "ranked": acts,  # already by expected cash per hour
        "by_amount": acts.sort_values("open_amount", ascending=False, kind="stable"),
        "by_age": acts.sort_values(
            ["max_days_past_due", "open_amount"], ascending=False, kind="stable"
        ),
    }

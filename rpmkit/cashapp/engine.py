"""Cash application: match each payment to the open invoices it pays.

Payments are applied in date order against the ledger's open items as of
each payment's date. Everything that does not depend on earlier payments is
done up front and vectorised (reference extraction and lookup, payer-name
candidates, the timeline of credit notes, discounts and earlier allocations);
the loop over payments then only reads and updates one array of open
amounts. Every proposal is written back to that state, auto-applied or not,
as if the review queue confirmed it before the next payment (a reviewer's
corrections are out of the engine's sight).

Examples
--------
>>> import rpmkit
>>> ledger = rpmkit.load(rpmkit.config.sample_dir()).ledger
>>> first = ledger.payments.head(300)
>>> cash = CashApplication(threshold=0.9).fit(ledger, first)
>>> cash
CashApplication(threshold=0.9; 300 payments, ... auto-applied)
>>> int(
...     cash.payments_["applied"].sum()
...     + cash.payments_["unapplied"].sum()
...     + cash.payments_["review"].sum()
... ) == int(first["amount"].sum())
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rpmkit import keys
from rpmkit.cashapp import candidates as rules
from rpmkit.cashapp.customers import payer_candidates
from rpmkit.cashapp.references import extract, invoice_key, po_key
from rpmkit.ledger import Ledger
from rpmkit.schema import DATE_DTYPE, ID_DTYPE

__all__ = ["CashApplication", "withhold"]

_REQUIRED = ("payment_id", "payment_date", "amount", "currency")
_TERMS = r"(?P<pct>\d+(?:\.\d+)?)\s*/\s*(?P<days>\d+)"


def _days(values) -> np.ndarray:
    return pd.Series(values).to_numpy(dtype=DATE_DTYPE).astype("datetime64[D]").astype(np.int64)


def withhold(ledger: Ledger, payments: pd.DataFrame) -> Ledger:
    """``ledger`` without ``payments`` and their allocations: the input to cash application."""
    ids = payments["payment_id"]
    in_pay = ledger.payments["payment_id"].isin(ids)
    in_alloc = ledger.allocations["payment_id"].isin(ids)
    if not (in_pay.any() or in_alloc.any()):
        return ledger
    return ledger.replace(
        payments=ledger.payments[~in_pay], allocations=ledger.allocations[~in_alloc]
    )


class _Invoices:
    """Invoice arrays the loop reads; built once per fit, vectorised."""

    def __init__(self, ledger: Ledger, cust_codes: pd.Index, cur_codes: pd.Index):
        inv = ledger.invoices
        self.n = len(inv)
        self.ids = inv["invoice_id"].to_numpy(dtype=object)
        self.cust = cust_codes.get_indexer(inv["customer_id"])
        self.cur = cur_codes.get_indexer(inv["currency"])
        self.amount = inv["amount"].to_numpy(dtype=np.int64)
        self.day = _days(inv["invoice_date"])
        self.due = _days(inv["due_date"])
        terms = inv["terms"].astype("string").str.extract(_TERMS)
        self.rate = pd.to_numeric(terms["pct"]).fillna(0).to_numpy(np.float64) / 100
        self.deadline = self.day + pd.to_numeric(terms["days"]).fillna(-1).to_numpy(np.int64)
        self.key = invoice_key(inv["invoice_id"]).to_numpy(dtype=object)
        self.digits = (
            inv["invoice_id"].str.extract(r"(\d+)\D*$", expand=False).fillna("").to_numpy(object)
        )
        self.po = po_key(inv["po_number"])
        order = np.lexsort((np.arange(self.n), self.day, self.due, self.cust))
        self.order = order
        self.start = np.searchsorted(self.cust[order], np.arange(len(cust_codes) + 1))
        self.open = self.amount.copy()

    def items(self, cust: int, cur: int, day: int, ptr: np.ndarray) -> rules.OpenItems:
        lo, hi = self.start[cust] + ptr[cust], self.start[cust + 1]
        pos = self.order[lo:hi]
        opens = self.open[pos]
        issued = self.day[pos] <= day
        live = opens > 0
        # Items never reopen: skip the settled prefix from now on (bounded work).
        if len(pos) and not live[0] and issued[0]:
            lead = np.argmax(live | ~issued) if (live | ~issued).any() else len(pos)
            ptr[cust] += lead
        keep = live & issued & (self.cur[pos] == cur)
        pos = pos[keep]
        opens = opens[keep]
        rate = self.rate[pos]
        if rate.any():
            in_window = day <= self.deadline[pos]
            net = opens - np.where(in_window, np.rint(opens * rate), 0).astype(np.int64)
        else:
            net = opens
        return rules.OpenItems(pos, opens, self.due[pos], net, self.key[pos], self.digits[pos])


class CashApplication:
    """Match payments to open invoices by reference, amount, discount and combination.

    Parameters
    ----------
    threshold
        Proposals with at least this confidence are applied automatically;
        the rest go to the review queue.
    max_candidates
        Open items searched for combinations per payment (the oldest).
    short_pay_tolerance, over_pay_tolerance
        Largest short-pay and over-payment accepted, as a share of the matched
        open amount.
    name_min_score
        Least fuzzy payer-name score (0-100) for a customer to be considered
        when a payment has no customer id and no usable reference.
    """

    def __init__(
        self,
        threshold: float = 0.9,
        max_candidates: int = 20,
        short_pay_tolerance: float = 0.1,
        over_pay_tolerance: float = 0.05,
        name_min_score: float = 80.0,
    ) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        if not 1 <= max_candidates <= 40:
            raise ValueError(f"max_candidates must be in [1, 40], got {max_candidates}")
        for name, value in (
            ("short_pay_tolerance", short_pay_tolerance),
            ("over_pay_tolerance", over_pay_tolerance),
        ):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        self.threshold = threshold
        self.max_candidates = max_candidates
        self.short_pay_tolerance = short_pay_tolerance
        self.over_pay_tolerance = over_pay_tolerance
        self.name_min_score = name_min_score

    # ------------------------------------------------------------------ fit
    def fit(self, ledger: Ledger, payments: pd.DataFrame | None = None) -> CashApplication:
        """Apply ``payments`` (default: the ledger's own, their allocations withheld).

        ``payments`` needs ``payment_id, payment_date, amount`` (minor units)
        and ``currency``; ``customer_id``, ``payer_name`` and
        ``remittance_text`` are used when present. The ledger's allocations of
        these payments, if any, are ignored.
        """
        if payments is None:
            payments = ledger.payments
        missing = [c for c in _REQUIRED if c not in payments.columns]
        if missing:
            raise ValueError(f"payments lack required columns: {', '.join(missing)}")
        pay = payments.reset_index(drop=True).copy()
        for col in ("customer_id", "payer_name", "remittance_text"):
            if col not in pay.columns:
                pay[col] = pd.Series(pd.NA, index=pay.index, dtype=ID_DTYPE)
        blank = [c for c in _REQUIRED if pay[c].isna().any()]
        if blank:
            raise ValueError(f"payments have blank values in: {', '.join(blank)}")
        if not pd.api.types.is_integer_dtype(pay["amount"]):
            raise ValueError("payments amount must be integer minor units (see rpmkit.money)")
        if (pay["amount"] <= 0).any():
            raise ValueError("payments amount must be positive")
        if pay["payment_id"].duplicated().any():
            raise ValueError("payments have duplicate payment_id values")
        base = withhold(ledger, pay)
        self.ledger_ = base
        self.proposed_, self.lines_ = self._run(base, pay)
        return self

    def _run(self, ledger: Ledger, pay: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        cust_codes = pd.Index(
            pd.concat([ledger.customers["customer_id"], ledger.invoices["customer_id"]]).unique()
        )
        cur_codes = pd.Index(pd.concat([ledger.invoices["currency"], pay["currency"]]).unique())
        inv = _Invoices(ledger, cust_codes, cur_codes)
        ev_day, ev_pos, ev_amt = self._events(ledger)

        order = np.lexsort((pay["payment_id"].to_numpy(dtype=object), _days(pay["payment_date"])))
        n = len(pay)
        p_day = _days(pay["payment_date"])
        p_amt = pay["amount"].to_numpy(dtype=np.int64)
        p_cur = cur_codes.get_indexer(pay["currency"])
        p_cust = cust_codes.get_indexer(pay["customer_id"].fillna(""))
        refs, unresolved, cut = self._references(pay, inv)
        # Payer names matter only where the customer is unknown.
        unknown = pay["payer_name"].where(p_cust < 0)
        names = payer_candidates(unknown, ledger.customers, self.name_min_score)
        name_rows = names["row"].to_numpy()
        name_cust = cust_codes.get_indexer(names["customer_id"])
        name_start = np.searchsorted(name_rows, np.arange(n + 1))

        ptr = np.zeros(len(cust_codes), dtype=np.int64)
        out_cust = np.full(n, -1, dtype=np.int64)
        out_source = np.empty(n, dtype=object)
        out_rule = np.empty(n, dtype=object)
        out_conf = np.zeros(n)
        out_unapplied = np.zeros(n, dtype=np.int64)
        out_deduction = np.zeros(n, dtype=np.int64)
        line_pay, line_pos, line_amt, line_rank, line_rule = [], [], [], [], []
        e = 0
        kw = dict(
            max_candidates=self.max_candidates,
            short_pay_tolerance=self.short_pay_tolerance,
            over_pay_tolerance=self.over_pay_tolerance,
        )
        for i in order:
            day = p_day[i]
            e2 = np.searchsorted(ev_day, day, side="right")
            if e2 > e:
                np.subtract.at(inv.open, ev_pos[e:e2], ev_amt[e:e2])
                e = e2
            hints = rules.Hints(refs[i], unresolved[i], cut[i])
            choices = self._customers(i, p_cust, refs, inv, day, name_cust, name_start, p_cur[i])
            best, best_cust, best_src, runner_up = None, -1, "unknown", 0.0
            for cust, source in choices:
                prop = rules.propose(
                    int(p_amt[i]), inv.items(cust, p_cur[i], day, ptr), hints, **kw
                )
                prop.confidence *= rules.payer_factor(source, prop.rule, len(choices))
                if best is None or prop.confidence > best.confidence:
                    runner_up = best.confidence if best is not None else 0.0
                    best, best_cust, best_src = prop, cust, source
                else:
                    runner_up = max(runner_up, prop.confidence)
            if best is None:
                best = rules.propose(int(p_amt[i]), rules.OpenItems(*_empty_items()), hints)
            elif best.rule != "unmatched" and runner_up >= best.confidence - rules.AMBIGUOUS_MARGIN:
                best.confidence *= 0.5  # two candidate payers fit about equally well
            if len(best.positions):
                np.subtract.at(inv.open, best.positions, best.amounts)
            out_cust[i], out_source[i], out_rule[i] = best_cust, best_src, best.rule
            out_conf[i] = best.confidence
            out_unapplied[i], out_deduction[i] = best.unapplied, best.deduction
            for rank, (rule, pos, amt) in enumerate(
                [(best.rule, best.positions, best.amounts), *best.alternatives]
            ):
                line_pay.extend([i] * len(pos))
                line_pos.extend(pos.tolist())
                line_amt.extend(amt.tolist())
                line_rank.extend([rank] * len(pos))
                line_rule.extend([rule] * len(pos))

        cust_ids = np.asarray(cust_codes, dtype=object)
        payments = pd.DataFrame(
            {
                "payment_id": pay["payment_id"].astype(ID_DTYPE),
                "payment_date": pay["payment_date"].astype(DATE_DTYPE),
                "amount": p_amt,
                "currency": pay["currency"].astype(ID_DTYPE),
                "customer_id": pd.Series(
                    np.where(out_cust >= 0, cust_ids[np.maximum(out_cust, 0)], None),
                    dtype=ID_DTYPE,
                ),
                "customer_source": pd.Series(out_source, dtype=ID_DTYPE),
                "rule": pd.Series(out_rule, dtype=ID_DTYPE),
                "confidence": out_conf,
                "unapplied_proposed": out_unapplied,
                "deduction": out_deduction,
            }
        )
        line_pay = np.asarray(line_pay, dtype=np.int64)
        lines = pd.DataFrame(
            {
                "payment_id": payments["payment_id"].to_numpy(object)[line_pay],
                "invoice_id": inv.ids[np.asarray(line_pos, dtype=np.int64)],
                "amount": np.asarray(line_amt, dtype=np.int64),
                "rank": np.asarray(line_rank, dtype=np.int64),
                "rule": np.asarray(line_rule, dtype=object),
                "confidence": np.where(np.asarray(line_rank) == 0, out_conf[line_pay], 0.0).astype(
                    np.float64
                ),
                "payment_date": payments["payment_date"].to_numpy()[line_pay],
            }
        ).astype({"payment_id": ID_DTYPE, "invoice_id": ID_DTYPE, "rule": ID_DTYPE})
        return payments, lines

    def _events(self, ledger: Ledger) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Credit notes, write-offs, discounts, deductions and earlier allocations, by day."""
        adj = ledger.adjustments
        alloc = ledger.allocations
        adj_pos = keys.positions(adj["invoice_id"], ledger.invoices["invoice_id"])
        alloc_pos = ledger.links()["alloc_invoice"]
        eff = ledger.allocation_dates()
        alloc_day = _days(eff)
        alloc_day[eff.isna().to_numpy()] = np.iinfo(np.int64).max  # never takes effect
        day = np.concatenate([_days(adj["date"]), alloc_day])
        pos = np.concatenate([adj_pos, alloc_pos])
        amt = np.concatenate([adj["amount"].to_numpy(np.int64), alloc["amount"].to_numpy(np.int64)])
        keep = pos >= 0
        order = np.argsort(day[keep], kind="stable")
        return day[keep][order], pos[keep][order], amt[keep][order]

    def _references(self, pay: pd.DataFrame, inv: _Invoices):
        """Per payment: invoice positions referenced, unresolved tokens, cut fragments."""
        found = extract(pay["remittance_text"])
        n = len(pay)
        lookup = pd.DataFrame({"key": inv.key, "pos": np.arange(inv.n)})
        po = pd.DataFrame({"key": inv.po.to_numpy(object), "pos": np.arange(inv.n)}).dropna()
        lookup = pd.concat([lookup, po], ignore_index=True).astype({"key": "string"})
        merged = found.reset_index().merge(lookup, on="key", how="left")
        hit = merged.dropna(subset=["pos"])
        hit_rows = hit["row"].to_numpy(np.int64)
        hit_pos = hit["pos"].to_numpy(np.int64)
        order = np.argsort(hit_rows, kind="stable")
        bounds = np.searchsorted(hit_rows[order], np.arange(n + 1))
        sorted_pos = hit_pos[order]
        refs = np.split(sorted_pos, bounds[1:-1]) if n else []
        unresolved = [()] * n
        cut = [()] * n
        # Tokens may resolve to another customer's (or a settled) invoice: keep them
        # all for typo correction against the payer's own open items.
        plain = found[~found["po"]]
        for r, key in zip(plain["row"].to_numpy(), plain["key"].to_numpy(object), strict=True):
            unresolved[r] = (*unresolved[r], key)
        cuts = found[found["cut"]]
        for r, d in zip(cuts["row"].to_numpy(), cuts["digits"].to_numpy(object), strict=True):
            cut[r] = (*cut[r], d)
        return refs, unresolved, cut

    def _customers(self, i, p_cust, refs, inv, day, name_cust, name_start, cur):
        """Candidate payers: the given id, else owners of referenced open invoices and names.

        Returns ``(customer code, source)`` pairs; source is ``given``,
        ``reference``, ``name`` or ``reference+name`` (both point to it).
        """
        if p_cust[i] >= 0:
            return [(int(p_cust[i]), "given")]
        pos = refs[i]
        owners: list[int] = []
        if len(pos):
            ok = (inv.open[pos] > 0) & (inv.day[pos] <= day) & (inv.cur[pos] == cur)
            owners = np.unique(inv.cust[pos[ok]]).tolist()
        named = name_cust[name_start[i] : name_start[i + 1]]
        named = [int(c) for c in named if c >= 0]
        out = [(c, "reference+name" if c in named else "reference") for c in owners]
        out += [(c, "name") for c in named if c not in owners]
        return out

    # -------------------------------------------------------------- results
    def _fitted(self) -> None:
        if not hasattr(self, "proposed_"):
            raise ValueError("call fit() first")

    @property
    def payments_(self) -> pd.DataFrame:
        """Per payment with ``auto``, ``applied``, ``unapplied`` and ``review`` at the threshold."""
        self._fitted()
        return decide(self.proposed_, self.lines_, self.threshold)

    @property
    def allocations_(self) -> pd.DataFrame:
        """Auto-applied allocations in the canonical ``allocations`` layout."""
        self._fitted()
        auto = self.lines_[
            (self.lines_["rank"] == 0) & (self.lines_["confidence"] >= self.threshold)
        ]
        out = auto[["payment_id", "invoice_id", "amount", "payment_date"]]
        return out.rename(columns={"payment_date": "applied_date"}).reset_index(drop=True)

    @property
    def review_(self) -> pd.DataFrame:
        """The review queue: payments below the threshold with their candidate allocations."""
        self._fitted()
        low = self.proposed_.loc[self.proposed_["confidence"] < self.threshold, "payment_id"]
        queue = self.lines_[self.lines_["payment_id"].isin(low)]
        return queue.drop(columns=["payment_date"]).reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Payments, amounts and auto-application by rule."""
        pays = self.payments_
        g = pays.groupby("rule", observed=True)
        out = pd.DataFrame(
            {
                "payments": g.size(),
                "confidence": g["confidence"].first(),
                "auto_applied": g["auto"].sum(),
            }
        )
        out["description"] = [rules.RULES[r][1] for r in out.index]
        return out.sort_values("payments", ascending=False)

    def __repr__(self) -> str:
        if not hasattr(self, "proposed_"):
            return f"CashApplication(threshold={self.threshold}; not fitted)"
        n = len(self.proposed_)
        auto = int(self.payments_["auto"].sum())
        return f"CashApplication(threshold={self.threshold}; {n:,} payments, {auto:,} auto-applied)"


def decide(payments: pd.DataFrame, lines: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Cash of each payment split at ``threshold`` into applied, unapplied and on review.

    ``applied + unapplied + review == amount`` for every payment; ``deduction``
    is what short-paid invoices still owe.
    """
    best = lines[lines["rank"] == 0]
    proposed = best.groupby("payment_id", observed=True)["amount"].sum()
    out = payments.copy()
    allocated = out["payment_id"].map(proposed).fillna(0).astype(np.int64)
    auto = (out["confidence"] >= threshold) & (out["rule"] != "unmatched")
    unmatched = out["rule"] == "unmatched"
    out["auto"] = auto
    out["applied"] = np.where(auto, allocated, 0)
    out["unapplied"] = np.where(auto | unmatched, out["amount"] - out["applied"], 0)
    out["review"] = out["amount"] - out["applied"] - out["unapplied"]
    return out


def _empty_items():
    e = np.array([], dtype=np.int64)
    return e, e, e, e, [], []

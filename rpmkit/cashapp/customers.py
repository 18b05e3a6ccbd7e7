"""Who paid: fuzzy payer-name matching against the customer master.

Bank statements carry the payer's name as the bank wrote it: in capitals,
abbreviated (``ACME IND``), cut to 16 characters, reduced to its first word
or to initials (``AI INC``). Names are normalised (case, punctuation, legal
forms dropped, common abbreviations expanded) and compared with rapidfuzz;
initials are compared with the master names' initials. Each payer name gets
a short list of candidate customers with scores in ``[0, 100]``; a list
longer than one is resolved later by the invoices the payment fits.

Examples
--------
>>> import pandas as pd
>>> normalise_names(pd.Series(["Acme Industries, Inc.", "ACME IND", "A.C.M.E. & Co"])).tolist()
['ACME INDUSTRIES', 'ACME INDUSTRIES', 'ACME']
>>> master = pd.DataFrame(
...     {
...         "customer_id": ["C1", "C2", "C3"],
...         "name": ["Acme Industries Inc", "Apex Logistics LLC", "Acme Foods Ltd"],
...     }
... )
>>> cand = payer_candidates(pd.Series(["ACME IND", "AL LLC", "ZZZ"]), master)
>>> cand[["row", "customer_id", "score"]].values.tolist()
[[0, 'C1', 100.0], [1, 'C2', 90.0]]
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

__all__ = ["LEGAL_FORMS", "ABBREVIATIONS", "normalise_names", "payer_candidates"]

_LEGAL = "INC INCORPORATED LLC LLP LP LTD LIMITED CORP CORPORATION CO COMPANY PLC GMBH AG SA SAS"
LEGAL_FORMS = frozenset((_LEGAL + " BV NV SL SPA SRL PTY AB KK DE CV DAC OY AS APS SARL").split())
# How banks and payers abbreviate common words in business names.
ABBREVIATIONS = {
    "IND": "INDUSTRIES",
    "INDS": "INDUSTRIES",
    "MFG": "MANUFACTURING",
    "TECH": "TECHNOLOGIES",
    "HLDGS": "HOLDINGS",
    "INTL": "INTERNATIONAL",
    "SVCS": "SERVICES",
    "SVC": "SERVICES",
    "SYS": "SYSTEMS",
    "PTNRS": "PARTNERS",
    "DIST": "DISTRIBUTION",
    "ELEC": "ELECTRIC",
    "ENGRG": "ENGINEERING",
    "ENG": "ENGINEERING",
    "CONSTR": "CONSTRUCTION",
    "PHARMA": "PHARMACEUTICALS",
    "CHEM": "CHEMICALS",
    "PKG": "PACKAGING",
    "MTRS": "MOTORS",
    "HLTHCARE": "HEALTHCARE",
    "SOLNS": "SOLUTIONS",
    "ENTPR": "ENTERPRISES",
    "ASSOC": "ASSOCIATES",
    "LABS": "LABORATORIES",
    "PRODS": "PRODUCTS",
    "COMPNTS": "COMPONENTS",
    "EQUIP": "EQUIPMENT",
    "MATLS": "MATERIALS",
    "NTWKS": "NETWORKS",
    "BEV": "BEVERAGES",
    "FURN": "FURNITURE",
    "MGMT": "MANAGEMENT",
    "GRP": "GROUP",
    "NATL": "NATIONAL",
    "BROS": "BROTHERS",
}
_PUNCT = re.compile(r"[^0-9A-Z ]+")
MIN_SCORE = 80.0  # below this a payer name says nothing
_TIE = 2.0  # candidates within this many points of the best are kept
MAX_CANDIDATES = 5


def _normalise_one(name: str) -> str:
    name = name.upper().replace("&", " AND ")
    # "A.C.M.E." and "S.p.A." are one token each once dots are gone.
    name = _PUNCT.sub(lambda m: "" if m.group(0) == "." else " ", name)
    words = [ABBREVIATIONS.get(w, w) for w in name.split()]
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(w for w in words if w != "AND" or len(words) == 1)


def normalise_names(names: pd.Series) -> pd.Series:
    """Upper-case names with punctuation and trailing legal forms removed, abbreviations expanded.

    Missing names stay missing. Work is per distinct name, so long statement
    files with recurring payers cost little.
    """
    names = pd.Series(names, copy=False).astype("string")
    uniques = names.dropna().unique()
    mapping = {u: _normalise_one(u) for u in uniques}
    return names.map(mapping).astype("string")


def _initials(normalised: np.ndarray) -> np.ndarray:
    return np.array(["".join(w[0] for w in n.split()[:2]) for n in normalised], dtype=object)


def payer_candidates(
    payer_names: pd.Series,
    customers: pd.DataFrame,
    min_score: float = MIN_SCORE,
    max_candidates: int = MAX_CANDIDATES,
) -> pd.DataFrame:
    """Candidate customers for each payer name, best first.

    Parameters
    ----------
    payer_names
        Names as on the bank statement, one per payment.
    customers
        The customer master with ``customer_id`` and ``name``.
    min_score
        Scores below this (0-100) are dropped.
    max_candidates
        At most this many candidates per payer, all within two points of the best.

    Returns
    -------
    DataFrame
        ``row`` (position in ``payer_names``), ``customer_id``, ``score``.
    """
    if not 0 <= min_score <= 100:
        raise ValueError(f"min_score must be in [0, 100], got {min_score}")
    payers = normalise_names(payer_names).reset_index(drop=True)
    master = customers[customers["name"].notna()].reset_index(drop=True)
    empty = pd.DataFrame({"row": [], "customer_id": [], "score": []}).astype(
        {"row": np.int64, "customer_id": "string", "score": np.float64}
    )
    if master.empty or payers.notna().sum() == 0:
        return empty
    master_norm = normalise_names(master["name"]).to_numpy(dtype=object)
    master_first = np.array([n.split()[0] if n else "" for n in master_norm], dtype=object)
    master_init = _initials(master_norm)
    uniq = payers.dropna().unique()
    uniq_arr = np.asarray(uniq, dtype=object)
    # token_set_ratio scores "ACME" against "ACME INDUSTRIES" as 100: short names
    # keep every customer sharing the word, and amounts decide between them.
    scores = process.cdist(uniq_arr, master_norm, scorer=fuzz.token_set_ratio, workers=1)
    scores = np.asarray(scores, dtype=np.float64)
    # A 16-character cut name is a prefix of the master name.
    for i, u in enumerate(uniq_arr):
        words = u.split()
        if len(words) == 1 and 2 <= len(u) <= 3 and u.isalpha():
            scores[i] = np.where(master_init == u, 90.0, np.minimum(scores[i], 50.0))
        elif len(words) == 1:
            scores[i] = np.where(master_first == u, np.maximum(scores[i], 95.0), scores[i])
    rows, cust, score = [], [], []
    index = {u: i for i, u in enumerate(uniq_arr)}
    best_by_name: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for i in range(len(uniq_arr)):
        s = scores[i]
        top = float(s.max())
        if top < min_score:
            continue
        keep = np.flatnonzero(s >= top - _TIE)
        keep = keep[np.argsort(-s[keep], kind="stable")][:max_candidates]
        best_by_name[i] = (keep, s[keep])
    ids = master["customer_id"].to_numpy(dtype=object)
    for r, name in enumerate(payers.to_numpy(dtype=object, na_value=None)):
        if name is None:
            continue
        hit = best_by_name.get(index[name])
        if hit is None:
            continue
        keep, s = hit
        rows.extend([r] * len(keep))
        cust.extend(ids[keep])
        score.extend(s)
    if not rows:
        return empty
    return pd.DataFrame(
        {"row": np.asarray(rows, dtype=np.int64), "customer_id": cust, "score": score}
    ).astype({"customer_id": "string", "score": np.float64})

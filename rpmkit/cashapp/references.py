"""Invoice references in free remittance text: extraction, normalisation and lookup.

Banks pass on whatever the payer typed: ``INV-000123``, ``INV000123``,
``#123``, ``Invoice 000123``, ``PO 4500927853``, several references in one
text, the last one cut off by a 140-character field. References are reduced
to a *key* (the invoice number's last run of digits without leading zeros)
so every style of the same number meets in one join; purchase-order numbers
get their own keys (``PO:`` + digits).

Examples
--------
>>> import pandas as pd
>>> invoice_key(pd.Series(["INV-000123", "A-7", "XYZ"])).tolist()
['123', '7', 'XYZ']
>>> refs = extract(pd.Series(["RE: INV-000123, INV 77", None, "PO-4500927853 #0042"]))
>>> refs[["row", "key", "po"]].values.tolist()
[[0, '123', False], [0, '77', False], [2, 'PO:4500927853', True], [2, '42', False]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["extract", "invoice_key", "po_key", "TRUNCATION_LENGTH"]

# Remittance fields of SEPA and ACH addenda records hold 140 characters; a text
# at least this long may have lost the end of its last reference.
TRUNCATION_LENGTH = 140

# A reference: an optional PO marker, then digits not part of an amount like
# 1,234.56 (a digit run followed by a decimal separator and digits is skipped).
_TOKEN = r"(?P<po>P\.?O\.?\s*[-#:]?\s*)?(?<![\d.,])(?P<digits>\d+)(?![\d]|[.,]\d)"


def _strip_zeros(digits: pd.Series) -> pd.Series:
    stripped = digits.str.lstrip("0")
    return stripped.mask((stripped == "").fillna(False), "0")


def invoice_key(ids: pd.Series) -> pd.Series:
    """Normalised key of each invoice id: its last digit run without leading zeros.

    Ids without digits keep their upper-cased letters and digits, so they can
    still be matched literally.
    """
    ids = pd.Series(ids, copy=False).astype("string")
    digits = ids.str.extract(r"(\d+)\D*$", expand=False)
    stripped = _strip_zeros(digits)
    literal = ids.str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
    return stripped.fillna(literal).astype("string")


def po_key(po_numbers: pd.Series) -> pd.Series:
    """Key of each purchase-order number (``PO:`` + digits), missing when it has none."""
    po = pd.Series(po_numbers, copy=False).astype("string")
    digits = po.str.replace(r"\D", "", regex=True).str.lstrip("0")
    return ("PO:" + digits).where(digits.fillna("").str.len() > 0).astype("string")


def extract(texts: pd.Series) -> pd.DataFrame:
    """Every reference in every text, one row each, in text order.

    Parameters
    ----------
    texts
        Remittance texts; missing texts give no rows.

    Returns
    -------
    DataFrame
        ``row`` (position of the text), ``key`` (see :func:`invoice_key`;
        ``PO:`` keys for purchase orders), ``po`` (bool), ``digits`` (as
        written), ``last`` (the text's last reference) and ``cut`` (the last
        reference of a text long enough to have been truncated).
    """
    texts = pd.Series(texts, copy=False).astype("string").reset_index(drop=True)
    found = texts.str.upper().str.extractall(_TOKEN)
    if found.empty:
        return pd.DataFrame(
            {
                "row": np.array([], dtype=np.int64),
                "key": pd.Series([], dtype="string"),
                "po": np.array([], dtype=bool),
                "digits": pd.Series([], dtype="string"),
                "last": np.array([], dtype=bool),
                "cut": np.array([], dtype=bool),
            }
        )
    row = found.index.get_level_values(0).to_numpy(dtype=np.int64)
    digits = found["digits"].astype("string")
    po = found["po"].notna().to_numpy()
    stripped = _strip_zeros(digits)
    key = stripped.where(~po, "PO:" + stripped)
    last = np.ones(len(row), dtype=bool)
    last[:-1] = row[1:] != row[:-1]
    length = texts.str.len().to_numpy(dtype=np.float64, na_value=0.0)[row]
    # Only a reference touching the end of a full-length field can be cut.
    ends = texts.str.rstrip().str.contains(r"\d$", regex=True).fillna(False).to_numpy(bool)[row]
    cut = last & ends & (length >= TRUNCATION_LENGTH)
    return pd.DataFrame(
        {
            "row": row,
            "key": key.to_numpy(),
            "po": po,
            "digits": digits.to_numpy(),
            "last": last,
            "cut": cut,
        }
    ).astype({"key": "string", "digits": "string"})

"""Exact money: integer minor units per ISO 4217 currency.

Every amount inside rpmkit is an ``int64`` count of the currency's minor unit
(cents for USD, yen for JPY, fils for KWD). Files carry plain decimal text
(``1234.56``); :func:`parse_amounts` turns text into minor units and says, row
by row, why a value was refused, and :func:`format_amounts` turns minor units
back into text. Nothing here goes through binary floating point, so a total
never changes by rounding.

Examples
--------
>>> import pandas as pd
>>> minor, reason = parse_amounts(pd.Series(["12.50", "7", "1.005", "1,5"]), "USD")
>>> minor.tolist()
[1250, 700, <NA>, <NA>]
>>> reason.tolist()
[None, None, 'amount_too_many_decimals', 'amount_decimal_comma']
>>> format_amounts(pd.Series([1250, -5]), "USD").tolist()
['12.50', '-0.05']
>>> exponent("JPY"), exponent("KWD")
(0, 3)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CURRENCY_EXPONENTS",
    "exponent",
    "exponents",
    "format_amounts",
    "is_known_currency",
    "parse_amounts",
    "to_units",
    "units_to_minor",
]

# ISO 4217 active codes with a minor-unit exponent other than 2.
_EXPONENT_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
# ISO 4217 active codes whose exponent is 2.
_EXPONENT_2 = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP
BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD
FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD
KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD
NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP
SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED
VES WST XCD XCG YER ZAR ZMW ZWG
"""

CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_EXPONENT_2.split(), 2),
    **dict.fromkeys(_EXPONENT_0.split(), 0),
    **dict.fromkeys(_EXPONENT_3.split(), 3),
    **dict.fromkeys(_EXPONENT_4.split(), 4),
}
"""Minor-unit exponent of every active ISO 4217 currency code."""

_MAX_EXPONENT = max(CURRENCY_EXPONENTS.values())

# A plain decimal: optional sign, digits, optional fraction. Leading/trailing blanks allowed.
_PLAIN = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$"
# Thousands grouped with commas and a decimal point: unambiguous English notation.
_GROUPED_POINT = r"^\s*[+-]?\d{1,3}(,\d{3})+\.\d+\s*$"
# Several comma groups without a decimal point (1,234,567): also unambiguous.
_GROUPED_MULTI = r"^\s*[+-]?\d{1,3}(,\d{3}){2,}\s*$"
# Decimal comma, possibly with point or space thousands (1.234,56 / 1234,56 / 1,5).
_DECIMAL_COMMA = r"^\s*[+-]?\d{1,3}([. \x{a0}]\d{3})*,\d+\s*$|^\s*[+-]?\d+,\d+\s*$"
_SCIENTIFIC = r"^\s*[+-]?\d+(\.\d*)?[eE][+-]?\d+\s*$"


def exponent(currency: str) -> int:
    """Minor-unit exponent of an ISO 4217 code (``KeyError`` when unknown)."""
    return CURRENCY_EXPONENTS[currency]


def is_known_currency(currency: object) -> bool:
    """True for an active ISO 4217 code written in upper case."""
    return isinstance(currency, str) and currency in CURRENCY_EXPONENTS


def exponents(currencies: pd.Series | str, index: pd.Index | None = None) -> np.ndarray:
    """Per-row exponents (``-1`` where the currency is unknown or missing)."""
    if isinstance(currencies, str):
        n = len(index) if index is not None else 1
        return np.full(n, CURRENCY_EXPONENTS.get(currencies, -1), dtype=np.int64)
    codes = pd.Series(currencies, copy=False)
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    # Arrow's hash lookup: Series.map hashes Python strings, seconds per 10M rows.
    arr = pa.array(codes.astype("string[pyarrow]").array)
    pos = pc.fill_null(pc.index_in(arr, value_set=_CODES), -1).to_numpy(zero_copy_only=False)
    pos = np.asarray(pos, dtype=np.int64)
    return np.where(pos >= 0, _EXPONENT_VALUES[np.maximum(pos, 0)], -1)


_CODES = pa.array(list(CURRENCY_EXPONENTS), pa.string())
_EXPONENT_VALUES = np.array(list(CURRENCY_EXPONENTS.values()), dtype=np.int64)


def _typed_array(values) -> pa.ChunkedArray | pa.Array | None:
    """The Arrow column behind ``values`` when it is a decimal or integer column, else None."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        arr = values
    else:
        dtype = getattr(values, "dtype", None)
        if not isinstance(dtype, pd.ArrowDtype):
            return None
        arr = pd.Series(values, copy=False).array._pa_array
    t = arr.type
    if pa.types.is_decimal128(t) or pa.types.is_integer(t):
        return arr
    return None


def _unscaled(arr) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(int64 unscaled values, missing mask, scale) of a decimal128 or integer column.

    None when a value does not fit in an int64 (the text path then decides).
    """
    t = arr.type
    missing = np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_integer(t):
        try:
            vals = pc.fill_null(pc.cast(arr, pa.int64()), 0).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, OverflowError):
            return None
        vals = np.asarray(vals, dtype=np.int64)
        scale = 0
    else:
        chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
        parts = []
        for c in chunks:
            buf = c.buffers()[1]
            if buf is None or len(c) == 0:
                parts.append(np.zeros(len(c), dtype=np.int64))
                continue
            # decimal128: 16-byte little-endian two's complement (low word, high word).
            words = np.frombuffer(buf, dtype="<i8")[2 * c.offset : 2 * (c.offset + len(c))]
            words = words.reshape(-1, 2)
            lo, hi = words[:, 0], words[:, 1]
            fits = hi == (lo >> 63)
            if not fits[~np.asarray(pc.is_null(c).to_numpy(zero_copy_only=False))].all():
                return None
            parts.append(lo)
        vals = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        vals = np.where(missing, 0, vals)
        scale = t.scale
    if (vals == np.iinfo(np.int64).min).any():
        return None
    return vals, missing, scale


def _typed_amounts(arr, exps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`parse_amounts` of a decimal or integer column, without making its text.

    Gives what parsing its exact text (``-1234.50`` for a decimal of scale 2)
    would: the same minor units and the same reasons.
    """
    got = _unscaled(arr)
    if got is None:
        return None
    vals, missing, s = got
    n = len(vals)
    reason = np.full(n, None, dtype=object)
    mag = np.abs(vals)
    int_part = mag // 10**s
    int_len = np.ones(n, dtype=np.int64)
    for k in range(1, 19):
        int_len += int_part >= 10**k
    e = exps
    currency_bad = e < 0
    cut = np.clip(s - e, 0, 18)
    # More significant decimals than the currency has: the dropped digits are not all zero.
    too_many = ~currency_bad & (e < s) & (mag % (10**cut) != 0)
    too_big = int_len + np.maximum(e, 0) > 18
    reason[missing] = "amount_missing"
    present = ~missing
    reason[present & currency_bad] = "unknown_currency"
    reason[present & ~currency_bad & too_many] = "amount_too_many_decimals"
    reason[present & ~currency_bad & ~too_many & too_big] = "amount_out_of_range"
    valid = present & ~currency_bad & ~too_many & ~too_big
    up = np.clip(e - s, 0, 18)
    safe = np.where(valid, mag, 0)
    minor = np.where(e >= s, safe * 10**up, safe // 10**cut)
    minor = np.where(vals < 0, -minor, minor)
    return np.where(valid, minor, 0), valid, reason


def _as_string_array(values: pd.Series) -> pa.ChunkedArray | pa.Array:
    if _typed_array(values) is not None:
        from rpmkit.io.readers import arrow_to_text

        return arrow_to_text(_typed_array(values))
    s = pd.Series(values, copy=False)
    if isinstance(s.dtype, pd.ArrowDtype) or str(s.dtype).startswith(("string", "str")):
        arr = pa.array(s.astype("string[pyarrow]"))
    else:
        arr = pa.array(s.astype(object).where(s.notna(), None), type=pa.string(), from_pandas=True)
    return arr


def parse_amounts(
    values: pd.Series,
    currencies: pd.Series | str,
    *,
    decimal: str = ".",
) -> tuple[pd.Series, pd.Series]:
    """Parse decimal text into integer minor units, with a reason for each refusal.

    Parameters
    ----------
    values
        Amount text, one per row. Blank or missing values are refused with
        ``amount_missing``.
    currencies
        ISO 4217 code per row (or one code for all rows); it fixes how many
        decimals are allowed. Rows with an unknown currency get ``unknown_currency``.
    decimal
        ``"."`` (default) accepts ``1234.56`` and unambiguous English grouping
        (``1,234.56``, ``1,234,567``). ``","`` accepts ``1234,56`` and
        ``1.234,56`` instead; a file must declare it, it is never guessed.

    Returns
    -------
    (minor, reason)
        ``minor`` is a nullable ``Int64`` Series of minor units (``<NA>`` where
        refused); ``reason`` holds ``None`` for accepted rows and a stable reason
        code otherwise: ``amount_missing``, ``amount_decimal_comma``,
        ``amount_ambiguous_separator``, ``amount_scientific``,
        ``amount_not_number``, ``amount_too_many_decimals``,
        ``amount_out_of_range``, ``unknown_currency``.
    """
    index = pd.Series(values, copy=False).index
    exps = exponents(currencies, index)
    typed = _typed_array(values)
    if typed is not None and decimal == ".":
        done = _typed_amounts(typed, exps)
        if done is not None:
            minor, valid, reason = done
            result = pd.array(minor, dtype="Int64")
            result[~valid] = pd.NA
            reason_s = pd.Series(reason, index=index, dtype=object)
            return pd.Series(result, index=index, name=getattr(values, "name", None)), reason_s
    arr = _as_string_array(values)
    n = len(arr)
    reason = np.full(n, None, dtype=object)

    stripped = pc.utf8_trim_whitespace(arr)
    missing = pc.fill_null(pc.equal(pc.utf8_length(stripped), 0), True)
    missing_np = np.asarray(missing.to_numpy(zero_copy_only=False), dtype=bool)

    def matches(pattern: str) -> np.ndarray:
        m = pc.fill_null(pc.match_substring_regex(stripped, pattern), False)
        return np.asarray(m.to_numpy(zero_copy_only=False), dtype=bool)

    if decimal == ".":
        plain = matches(_PLAIN)
        grouped = matches(_GROUPED_POINT) | matches(_GROUPED_MULTI)
        normalised = pc.replace_substring(stripped, ",", "")
        comma = matches(_DECIMAL_COMMA) & ~grouped
        # "1,234" could be one thousand or one point two three four: refuse to guess.
        ambiguous = comma & matches(r"^\s*[+-]?\d{1,3},\d{3}\s*$")
        comma &= ~ambiguous
    elif decimal == ",":
        plain = matches(r"^\s*[+-]?(\d+(,\d*)?|,\d+)\s*$")
        grouped = matches(r"^\s*[+-]?\d{1,3}([. \x{a0}]\d{3})+(,\d+)?\s*$")
        normalised = pc.replace_substring_regex(stripped, r"[. \x{a0}]", "")
        normalised = pc.replace_substring(normalised, ",", ".")
        comma = np.zeros(n, dtype=bool)
        ambiguous = np.zeros(n, dtype=bool)
    else:
        raise ValueError(f"decimal must be '.' or ',', got {decimal!r}")

    ok_syntax = (plain | grouped) & ~missing_np
    scientific = matches(_SCIENTIFIC) & ~ok_syntax

    reason[missing_np] = "amount_missing"
    reason[~missing_np & comma] = "amount_decimal_comma"
    reason[~missing_np & ambiguous] = "amount_ambiguous_separator"
    reason[~missing_np & scientific] = "amount_scientific"
    other = ~missing_np & ~ok_syntax & ~comma & ~ambiguous & ~scientific
    reason[other] = "amount_not_number"

    minor = np.zeros(n, dtype=np.int64)
    valid = np.zeros(n, dtype=bool)
    if ok_syntax.any():
        text = pc.utf8_trim_whitespace(normalised)
        negative = np.asarray(
            pc.fill_null(pc.starts_with(text, "-"), False).to_numpy(zero_copy_only=False), bool
        )
        unsigned = pc.utf8_ltrim(text, characters="+-")
        parts = pc.extract_regex(
            pc.if_else(pa.array(ok_syntax), unsigned, "0"), r"^(?P<i>\d*)(?:\.(?P<f>\d*))?$"
        )
        int_part = pc.fill_null(pc.struct_field(parts, "i"), "")
        frac_part = pc.fill_null(pc.struct_field(parts, "f"), "")
        frac_sig = pc.utf8_rtrim(frac_part, characters="0")
        frac_len = np.asarray(pc.utf8_length(frac_sig).to_numpy(zero_copy_only=False))
        frac_len = np.nan_to_num(frac_len.astype(float), nan=0).astype(np.int64)
        int_len = np.asarray(
            pc.fill_null(pc.utf8_length(int_part), 0).to_numpy(zero_copy_only=False)
        ).astype(np.int64)

        currency_bad = exps < 0
        too_many = ok_syntax & ~currency_bad & (frac_len > exps)
        # int64 holds 18 digits safely: keep 15 integer digits plus up to 3 of fraction.
        too_big = ok_syntax & (int_len + np.maximum(exps, 0) > 18)
        reason[ok_syntax & currency_bad] = "unknown_currency"
        reason[too_many & (reason == None)] = "amount_too_many_decimals"  # noqa: E711
        reason[too_big & (reason == None)] = "amount_out_of_range"  # noqa: E711
        valid = ok_syntax & (reason == None)  # noqa: E711

        if valid.any():
            e = np.where(valid, exps, 0)
            padded = pc.utf8_rpad(
                pc.utf8_slice_codeunits(frac_part, 0, _MAX_EXPONENT), _MAX_EXPONENT, "0"
            )
            int_text = pc.if_else(pc.equal(pc.utf8_length(int_part), 0), "0", int_part)
            int_vals = pc.cast(pc.if_else(pa.array(valid), int_text, "0"), pa.int64()).to_numpy(
                zero_copy_only=False
            )
            frac_vals = pc.cast(
                pc.if_else(pa.array(valid), padded, "0" * _MAX_EXPONENT), pa.int64()
            ).to_numpy(zero_copy_only=False)
            scale = 10**e
            frac_minor = frac_vals // (10 ** (_MAX_EXPONENT - e))
            minor = int_vals * scale + frac_minor
            minor = np.where(negative, -minor, minor)
    result = pd.array(np.where(valid, minor, 0), dtype="Int64")
    result[~valid] = pd.NA
    reason_s = pd.Series(reason, index=index, dtype=object)
    return pd.Series(result, index=index, name=getattr(values, "name", None)), reason_s


def format_amounts(minor: pd.Series, currencies: pd.Series | str) -> pd.Series:
    """Minor units back to plain decimal text with the currency's decimals.

    The inverse of :func:`parse_amounts` for every accepted value. Missing
    values stay missing.
    """
    s = pd.Series(minor, copy=False)
    index = s.index
    exps = exponents(currencies, index)
    if (exps < 0).any():
        bad = sorted(set(pd.Series(currencies, index=index)[exps < 0].astype(str)))
        raise ValueError(f"unknown currency code(s): {', '.join(bad)}")
    na = s.isna().to_numpy()
    vals = s.fillna(0).to_numpy(dtype=np.int64)
    out = np.empty(len(s), dtype=object)
    for e in np.unique(exps):
        sel = exps == e
        v = vals[sel]
        sign = np.where(v < 0, "-", "")
        a = np.abs(v)
        if e == 0:
            text = pc.binary_join_element_wise(
                pa.array(sign), pc.cast(pa.array(a), pa.string()), ""
            )
        else:
            whole, frac = np.divmod(a, 10**e)
            frac_text = pc.utf8_lpad(pc.cast(pa.array(frac), pa.string()), int(e), "0")
            text = pc.binary_join_element_wise(
                pc.cast(pa.array(sign), pa.string()),
                pc.cast(pa.array(whole), pa.string()),
                pa.array(np.full(len(v), ".")),
                frac_text,
                "",
            )
        out[sel] = text.to_numpy(zero_copy_only=False)
    out[na] = None
    return pd.Series(out, index=index, dtype="string")


def to_units(minor: pd.Series | int, currencies: pd.Series | str) -> pd.Series | float:
    """Minor units as floats in currency units, for display and plotting only.

    Totals must be taken on minor units first; convert at the end.

    >>> to_units(123456, "USD")
    1234.56
    """
    if np.isscalar(minor):
        return int(minor) / 10 ** exponent(str(currencies))
    s = pd.Series(minor, copy=False)
    exps = exponents(currencies, s.index)
    return s.astype("Float64") / np.power(10.0, exps)


def units_to_minor(units: float | int | str, currency: str) -> int:
    """One amount in currency units (number or text) to minor units, exactly.

    Raises ``ValueError`` when the amount has more decimals than the currency
    allows. Floats are read through their shortest decimal representation, so
    ``0.1`` is exactly ten cents.

    >>> units_to_minor(19.99, "USD"), units_to_minor("1500", "JPY")
    (1999, 1500)
    """
    text = (
        units
        if isinstance(units, str)
        else repr(float(units))
        if isinstance(units, float)
        else str(int(units))
    )
    minor, reason = parse_amounts(pd.Series([text]), currency)
    if reason.iloc[0] is not None:
        raise ValueError(f"{units!r} is not a valid {currency} amount ({reason.iloc[0]})")
    return int(minor.iloc[0])

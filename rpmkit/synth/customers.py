"""The customer master and each customer's hidden payment behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rpmkit import money
from rpmkit.synth import calendar, text
from rpmkit.synth.params import SynthParams
from rpmkit.synth.specs import CURRENCIES, parse_terms
from rpmkit.synth.streams import pick, uniform

# fmt: off
FIRST_WORDS = (
    "Acme", "Apex", "Atlas", "Beacon", "Birch", "Boulder", "Bright", "Cardinal", "Cascade",
    "Cedar", "Century", "Clearwater", "Coastal", "Crescent", "Delta", "Eagle", "Eastgate",
    "Echo", "Evergreen", "Falcon", "Frontier", "Granite", "Harbor", "Highland", "Horizon",
    "Keystone", "Lakeside", "Liberty", "Lighthouse", "Maple", "Meridian", "Midland",
    "Monarch", "Northwind", "Orion", "Pacific", "Paragon", "Peak", "Pinnacle", "Pioneer",
    "Prairie", "Quantum", "Redwood", "Riverside", "Rockport", "Sierra", "Summit", "Sunrise",
    "Tristate", "Union", "Vanguard", "Vertex", "Westfield", "Willow", "Zenith", "Allied",
    "Premier", "Superior", "Standard", "Continental", "National", "Metro", "Capital",
    "Heritage", "Sterling", "Ironwood", "Bluewater", "Greenfield", "Silverline", "Oakridge",
    "Stonebridge", "Brookfield", "Fairview", "Kingsley", "Lakeshore",
)
SECOND_WORDS = (  # (word, how banks abbreviate it)
    ("Corporation", "CORP"), ("Industries", "IND"), ("Logistics", "LOGISTICS"),
    ("Foods", "FOODS"), ("Manufacturing", "MFG"), ("Supply", "SUPPLY"),
    ("Technologies", "TECH"), ("Holdings", "HLDGS"), ("International", "INTL"),
    ("Services", "SVCS"), ("Systems", "SYS"), ("Trading", "TRADING"), ("Partners", "PTNRS"),
    ("Distribution", "DIST"), ("Electric", "ELEC"), ("Engineering", "ENGRG"),
    ("Construction", "CONSTR"), ("Pharmaceuticals", "PHARMA"), ("Chemicals", "CHEM"),
    ("Packaging", "PKG"), ("Plastics", "PLASTICS"), ("Metals", "METALS"),
    ("Textiles", "TEXTILES"), ("Motors", "MTRS"), ("Healthcare", "HLTHCARE"),
    ("Retail", "RETAIL"), ("Brands", "BRANDS"), ("Solutions", "SOLNS"),
    ("Enterprises", "ENTPR"), ("Associates", "ASSOC"), ("Laboratories", "LABS"),
    ("Products", "PRODS"), ("Components", "COMPNTS"), ("Equipment", "EQUIP"),
    ("Materials", "MATLS"), ("Networks", "NTWKS"), ("Farms", "FARMS"), ("Beverages", "BEV"),
    ("Furniture", "FURN"), ("Paper", "PAPER"),
)
REGIONS = (
    "West", "East", "North", "South", "Midwest", "Atlantic", "Central", "Gulf", "Mountain",
    "Southwest", "Northeast", "Southeast", "Northwest", "Coastal", "Valley", "Metro",
    "Continental", "Overseas", "Americas", "Europe",
)
# fmt: on
LEGAL_FORMS = {
    "US": (("Inc", "INC"), ("LLC", "LLC"), ("Corp.", "CORP"), ("Co.", "CO"), ("Ltd", "LTD")),
    "CA": (("Inc", "INC"), ("Ltd", "LTD"), ("Corp.", "CORP")),
    "GB": (("Ltd", "LTD"), ("Limited", "LTD"), ("PLC", "PLC")),
    "IE": (("Ltd", "LTD"), ("Limited", "LTD"), ("DAC", "DAC")),
    "DE": (("GmbH", "GMBH"), ("AG", "AG")),
    "CH": (("AG", "AG"), ("GmbH", "GMBH")),
    "FR": (("SAS", "SAS"), ("SA", "SA")),
    "NL": (("B.V.", "BV"),),
    "ES": (("S.L.", "SL"), ("S.A.", "SA")),
    "IT": (("S.p.A.", "SPA"), ("S.r.l.", "SRL")),
    "AU": (("Pty Ltd", "PTY LTD"),),
    "SE": (("AB", "AB"),),
    "MX": (("S.A. de C.V.", "SA DE CV"),),
    "JP": (("K.K.", "KK"),),
}

PAYER_STYLES = ("exact", "upper_abbrev", "truncated", "short_name", "initials")
_VARIANT_SHARES = (0.45, 0.2, 0.2, 0.15)  # of customers whose bank name differs
REF_STYLES = ("full", "compact", "number", "spaced")
_REF_SHARES = (0.5, 0.2, 0.2, 0.1)
PAY_RUNS = ("none", "weekly", "month_end")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@dataclass
class Customers:
    """Per-customer arrays (index = customer number − 1); internal to the generator."""

    n: int
    segment: np.ndarray  # index into params.segments
    behaviour: np.ndarray  # index into params.behaviours
    currency: np.ndarray  # index into currencies
    currencies: tuple[str, ...]  # reporting currency first
    country: np.ndarray  # object array of ISO codes
    created: np.ndarray  # datetime64[D]
    rate: np.ndarray  # expected invoices per month at start
    amount_scale: np.ndarray  # median invoice amount, in the customer's currency units
    amount_sigma: np.ndarray
    terms: np.ndarray  # index into terms_codes
    terms_codes: tuple[str, ...]
    discount_taker: np.ndarray
    pay_run: np.ndarray  # calendar.NO_PAY_RUN / WEEKLY / MONTH_END
    run_weekday: np.ndarray
    combines: np.ndarray
    method: np.ndarray  # usual payment method, index into methods
    methods: tuple[str, ...]  # the methods of params.method_delay_days
    electronic: np.ndarray
    po_style: np.ndarray  # 0 none, 1 SAP-style 45xxxxxxxx, 2 PO-nnnnnn
    mean_delay: np.ndarray  # days after due at the start date
    delay_sd: np.ndarray
    trend: np.ndarray  # days per year
    default_rate: np.ndarray
    payer_style: np.ndarray  # index into PAYER_STYLES
    ref_style: np.ndarray  # index into REF_STYLES
    # Indices of the name's first word, second word, region and legal form.
    name_parts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

    @cached_property
    def ids(self) -> pa.Array:
        return text.ids("C", np.arange(1, self.n + 1), text.id_width(self.n, 4))


def draw_customers(p: SynthParams, rng: np.random.Generator) -> Customers:
    """Draw the customer population; every draw has one value per customer, in a fixed order."""
    n = p.customers
    start = calendar.as_day(p.start_date.date())
    end = calendar.as_day(p.end_date.date())
    seg = pick(uniform(rng, n), [s.share for s in p.segments])
    beh = pick(uniform(rng, n), [b.share for b in p.behaviours])
    z_delay = rng.standard_normal(n)
    u_trend, u_terms, u_disc = uniform(rng, n), uniform(rng, n), uniform(rng, n)
    u_run, u_weekday, u_combine = uniform(rng, n), uniform(rng, n), uniform(rng, n)
    u_method, u_channel, u_po, u_po_style = (uniform(rng, n) for _ in range(4))
    z_rate, z_amount = rng.standard_normal(n), rng.standard_normal(n)
    u_new, u_created = uniform(rng, n), uniform(rng, n)
    u_foreign, u_cur, u_country, u_legal = (uniform(rng, n) for _ in range(4))
    u_variant, u_payer, u_ref = uniform(rng, n), uniform(rng, n), uniform(rng, n)
    base_names = rng.permutation(len(FIRST_WORDS) * len(SECOND_WORDS))

    beh_spec = p.behaviours
    mean_delay = np.array([b.mean_delay_days for b in beh_spec])[beh]
    mean_delay = mean_delay + np.array([b.spread_days for b in beh_spec])[beh] * z_delay
    delay_sd = np.array([b.noise_days for b in beh_spec])[beh]
    trend = np.array([b.trend_days_per_year for b in beh_spec])[beh] * (0.7 + 0.6 * u_trend)
    default_rate = np.array([b.default_rate for b in beh_spec])[beh]

    terms_codes = tuple(dict.fromkeys(code for s in p.segments for code, _ in s.terms))
    methods = tuple(m for m, _ in p.method_delay_days)
    terms = np.zeros(n, dtype=np.int64)
    method = np.zeros(n, dtype=np.int64)
    for i, s in enumerate(p.segments):
        m = seg == i
        local = pick(u_terms[m], [share for _, share in s.terms])
        terms[m] = np.array([terms_codes.index(code) for code, _ in s.terms])[local]
        local = pick(u_method[m], [share for _, share in s.methods])
        method[m] = np.array([methods.index(code) for code, _ in s.methods])[local]

    def per_segment(attr: str) -> np.ndarray:
        return np.array([getattr(s, attr) for s in p.segments], dtype=np.float64)[seg]

    # Customer size: lognormal with mean 1 for volume, median 1 for amounts.
    rate = per_segment("invoices_per_month") * np.exp(0.5 * z_rate - 0.125)
    discount_terms = np.array([parse_terms(c)[1] > 0 for c in terms_codes])[terms]
    pay_run = np.where(
        u_run < p.weekly_pay_run_share,
        calendar.WEEKLY,
        np.where(
            u_run < p.weekly_pay_run_share + p.month_end_pay_run_share,
            calendar.MONTH_END,
            calendar.NO_PAY_RUN,
        ),
    )

    currencies = (p.reporting_currency, *p.foreign_currencies)
    foreign = (u_foreign < p.foreign_currency_share) & (len(currencies) > 1)
    n_foreign = max(len(currencies) - 1, 1)
    currency = np.where(
        foreign, 1 + np.minimum((u_cur * n_foreign).astype(np.int64), n_foreign - 1), 0
    )
    country = np.empty(n, dtype=object)
    for i, code in enumerate(currencies):
        m = currency == i
        options = CURRENCIES[code][1]
        country[m] = np.array(options, dtype=object)[
            np.minimum((u_country[m] * len(options)).astype(np.int64), len(options) - 1)
        ]
    usd = np.array([CURRENCIES[c][0] for c in currencies])
    to_local = usd[0] / usd[currency]  # reporting units → customer currency units

    span = int((end - start).astype(np.int64))
    new = u_new < p.new_customer_share
    created = np.where(
        new,
        start + (u_created * max(span - 30, 1)).astype(np.int64),
        start - 30 - (u_created * 8 * 365).astype(np.int64),
    ).astype(calendar.DAY)

    variant = u_variant < p.payer_name_variant_share
    payer_style = np.where(variant, 1 + pick(u_payer, _VARIANT_SHARES), 0)
    legal = np.zeros(n, dtype=np.int64)
    for code, forms in LEGAL_FORMS.items():
        m = country == code
        legal[m] = np.minimum((u_legal[m] * len(forms)).astype(np.int64), len(forms) - 1)
    k = np.arange(n)
    base = base_names[k % len(base_names)]
    first, second = base // len(SECOND_WORDS), base % len(SECOND_WORDS)
    region = k // len(base_names)  # 0: no region; repeats of a base name get one

    return Customers(
        n=n,
        segment=seg,
        behaviour=beh,
        currency=currency,
        currencies=currencies,
        country=country,
        created=created,
        rate=rate,
        amount_scale=per_segment("amount_median") * np.exp(0.5 * z_amount) * to_local,
        amount_sigma=per_segment("amount_sigma"),
        terms=terms,
        terms_codes=terms_codes,
        discount_taker=discount_terms & (u_disc < p.discount_taker_share),
        pay_run=pay_run,
        run_weekday=np.minimum((u_weekday * 5).astype(np.int64), 4),
        combines=(u_combine < per_segment("combine_share")) | (pay_run != calendar.NO_PAY_RUN),
        method=method,
        methods=methods,
        electronic=u_channel < per_segment("electronic_share"),
        po_style=np.where(u_po < per_segment("po_share"), np.where(u_po_style < 0.5, 1, 2), 0),
        mean_delay=mean_delay,
        delay_sd=delay_sd,
        trend=trend,
        default_rate=default_rate,
        payer_style=payer_style,
        ref_style=pick(u_ref, _REF_SHARES),
        name_parts=(first, second, region, legal),
    )


def _legal(c: Customers, column: int) -> pa.Array:
    out = pa.nulls(c.n, pa.string())
    for code, forms in LEGAL_FORMS.items():
        m = c.country == code
        if m.any():
            local = np.where(m, c.name_parts[3], 0)
            out = text.where(m, text.take([f[column] for f in forms], local), out)
    return out


def names(c: Customers) -> pa.Array:
    """Legal names as in the customer master, e.g. ``Acme Corporation Ltd``."""
    first, second, region, _ = c.name_parts
    reg = np.where(region == 0, -1, (region - 1) % len(REGIONS))
    parts = [
        text.take(FIRST_WORDS, first),
        text.take([w for w, _ in SECOND_WORDS], second),
        pc.fill_null(text.take(REGIONS, reg), ""),
        _legal(c, 0),
    ]
    joined = text.join(*parts, sep=" ")
    joined = pc.replace_substring(joined, "  ", " ")
    many = region > len(REGIONS)  # beyond every region: number the repeats
    if many.any():
        joined = text.where(many, text.join(joined, text.digits(region), sep=" "), joined)
    return joined


def bank_names(c: Customers) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """How a bank writes each customer's name, per style of :data:`PAYER_STYLES`.

    Returns ``upper_abbrev`` (``ACME CORP``), ``truncated`` (first 16
    characters in capitals), ``short_name`` (``ACME``) and ``initials``
    (``AC INC``), one entry per customer.
    """
    first, second, _, _ = c.name_parts
    w1 = pc.utf8_upper(text.take(FIRST_WORDS, first))
    w2 = text.take([a for _, a in SECOND_WORDS], second)
    legal = _legal(c, 1)
    with_legal = text.join(w1, w2, legal, sep=" ")
    upper_abbrev = text.where(first % 2 == 0, text.join(w1, w2, sep=" "), with_legal)
    truncated = pc.utf8_rtrim_whitespace(pc.utf8_slice_codeunits(pc.utf8_upper(names(c)), 0, 16))
    initials = text.join(
        pc.utf8_slice_codeunits(w1, 0, 1), pc.utf8_slice_codeunits(w2, 0, 1), sep=""
    )
    return upper_abbrev, truncated, w1, text.join(initials, legal, sep=" ")


def customers_frame(c: Customers, p: SynthParams) -> pd.DataFrame:
    """The ``customers`` table; credit limits are months of expected sales, in round thousands."""
    monthly_sales = c.rate * c.amount_scale * np.exp(c.amount_sigma**2 / 2)
    months = np.array([s.credit_limit_months for s in p.segments])[c.segment]
    # Limits are round numbers: two significant digits, at least 1,000 units.
    raw = np.maximum(monthly_sales * months, 1000.0)
    step = 10.0 ** (np.floor(np.log10(raw)) - 1)
    units = np.round(raw / step) * step
    exps = np.array([money.exponent(code) for code in c.currencies])[c.currency]
    net_days = np.array([parse_terms(code)[0] for code in c.terms_codes])
    return pd.DataFrame(
        {
            "customer_id": text.series(c.ids),
            "name": text.series(names(c)),
            "segment": text.series(text.take([s.name for s in p.segments], c.segment)),
            "country": text.series(c.country),
            "currency": text.series(text.take(c.currencies, c.currency)),
            "credit_limit": (units * 10.0**exps).astype(np.int64),
            "terms_days": pd.array(net_days[c.terms], dtype="Int64"),
            "created_date": text.dates(c.created),
        }
    )


def truth_frame(c: Customers, p: SynthParams) -> pd.DataFrame:
    """Per-customer true behaviour parameters (``truth["customers"]``)."""
    methods = np.array(c.methods, dtype=object)
    run = np.array(PAY_RUNS, dtype=object)[c.pay_run]
    run = np.where(
        c.pay_run == calendar.WEEKLY,
        "weekly_" + np.array(WEEKDAYS, dtype=object)[c.run_weekday],
        run,
    )
    return pd.DataFrame(
        {
            "customer_id": text.series(c.ids),
            "segment": text.series(text.take([s.name for s in p.segments], c.segment)),
            "behaviour": text.series(text.take([b.name for b in p.behaviours], c.behaviour)),
            "mean_delay_days": np.round(c.mean_delay, 2),
            "delay_sd_days": np.round(c.delay_sd, 2),
            "trend_days_per_year": np.round(c.trend, 2),
            "default_rate": c.default_rate,
            "terms": text.series(text.take(c.terms_codes, c.terms)),
            "discount_taker": c.discount_taker,
            "pay_run": text.series(run),
            "combines_payments": c.combines,
            "usual_method": text.series(methods[c.method]),
            "invoices_per_month": np.round(c.rate, 3),
            "payer_name_style": text.series(text.take(PAYER_STYLES, c.payer_style)),
            "reference_style": text.series(text.take(REF_STYLES, c.ref_style)),
        }
    )

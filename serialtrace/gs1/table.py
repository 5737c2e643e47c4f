"""The AI table: format, separator rule, associations and Digital Link role of each AI."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ..i18n import _l
from . import linters
from .charsets import REGEX_CLASS
from .checkdigit import ensure_check_digit
from .dates import ensure_yymmd0, ensure_yymmdd
from .errors import GS1Error

# AIs whose element strings have a predefined length, keyed by their first two digits
# (GS1 General Specifications, figure 7.8.5-2). Only these may be followed by the next
# AI without a separator; every other AI needs FNC1/GS unless it is last.
PREDEFINED_LENGTH_PREFIXES = frozenset(
    ["00", "01", "02", "03", "04"] + [str(n) for n in range(11, 21)]
    + [str(n) for n in range(31, 37)] + ["41"]
)


@dataclass(frozen=True, slots=True)
class Component:
    """One part of an AI's data field, such as N13 with a check digit."""

    kind: str  # N digits, X character set 82, Y character set 39, Z character set 64
    min_length: int
    max_length: int
    optional: bool
    linters: tuple[str, ...]

    @property
    def notation(self) -> str:
        """The GS1 notation of this component, such as N14 or [X..16]."""
        size = str(self.max_length) if self.min_length == self.max_length else f"..{self.max_length}"
        text = f"{self.kind}{size}"
        return f"[{text}]" if self.optional else text


@dataclass(frozen=True, slots=True)
class AISpec:
    """Everything the GS1 rules say about one Application Identifier."""

    ai: str
    title: str
    components: tuple[Component, ...]
    separator_required: bool
    requires: tuple[tuple[str, ...], ...]  # any one group, all AIs of the group; "31nn" patterns
    excludes: tuple[str, ...]  # AIs or patterns such as "310n"
    dl_attribute: bool  # may appear as a Digital Link query parameter
    dl_qualifiers: tuple[tuple[str, ...], ...] | None  # None unless a Digital Link primary key
    date_kind: str | None  # "yymmd0" (DD=00 allowed), "yymmdd" or None
    min_length: int
    max_length: int
    pattern: re.Pattern[str]
    checks: tuple[tuple[int, Callable[[str, str], None]], ...]

    @property
    def format(self) -> str:
        """The GS1 format notation including the AI, such as N2+N14 or N2+X..20."""
        return "+".join([f"N{len(self.ai)}"] + [c.notation for c in self.components])

    @property
    def fixed_length(self) -> int | None:
        """The data length when it never varies, else None."""
        return self.max_length if self.min_length == self.max_length else None

    @property
    def predefined_length(self) -> bool:
        """Whether the element string may be followed by the next AI without a separator."""
        return not self.separator_required

    @property
    def is_dl_primary_key(self) -> bool:
        """Whether the AI can be the primary key of a Digital Link URI path."""
        return self.dl_qualifiers is not None


def _check_zero(ai: str, part: str) -> None:
    if part != "0":
        raise GS1Error(_l("(%(ai)s) must start with the digit 0, not %(part)s", ai=ai, part=part))


def _check_piece_of_total(ai: str, part: str) -> None:
    piece, total = int(part[:2]), int(part[2:])
    if piece == 0 or total == 0 or piece > total:
        raise GS1Error(_l("(%(ai)s) piece %(part)s of total %(part2)s is not a valid piece number", ai=ai,
                          part=part[:2], part2=part[2:]))


def _check_no_zero_prefix(ai: str, part: str) -> None:
    if len(part) > 1 and part[0] == "0":
        raise GS1Error(_l("(%(ai)s) %(part)s must not start with 0", ai=ai, part=part))


def _check_base64_padding(ai: str, part: str) -> None:
    if "=" in part.rstrip("="):
        raise GS1Error(_l("(%(ai)s) '=' is only allowed as padding at the end", ai=ai))


_LINTERS: dict[str, Callable[[str, str], None]] = {
    "csum": ensure_check_digit,
    "yymmd0": ensure_yymmd0,
    "yymmdd": ensure_yymmdd,
    "zero": _check_zero,
    "pieceoftotal": _check_piece_of_total,
    "nozeroprefix": _check_no_zero_prefix,
    "pad64": _check_base64_padding,
    "iso3166": linters.iso3166,
    "iso3166999": linters.iso3166_or_999,
    "iso3166alpha2": linters.iso3166_alpha2,
    "iso4217": linters.iso4217,
    "nonzero": linters.nonzero,
    "winding": linters.winding,
    "yesno": linters.yesno,
    "iso5218": linters.iso5218,
    "hh": linters.hour,
    "mi": linters.minute,
    "ss": linters.second,
    "hhmi": linters.hhmi,
    "yyyymmdd": linters.yyyymmdd,
    "latitude": linters.latitude,
    "longitude": linters.longitude,
    "hyphen": linters.hyphen,
    "pcenc": linters.percent_encoded,
    "hasnondigit": linters.has_non_digit,
    "mediatype": linters.media_type,
    "importeridx": linters.importer_index,
    "posinseqslash": linters.position_in_sequence,
    "iban": linters.iban,
    "csumalpha": linters.csum_alpha,
}

_COMPONENT_RE = re.compile(r"(\[)?([NXYZ])(\.\.)?(\d+)\]?((?:,[a-z0-9]+)*)$")


def _component(text: str) -> Component:
    m = _COMPONENT_RE.match(text)
    if m is None:
        raise AssertionError(f"bad component {text!r} in the AI table")
    optional, kind, variable, size, linters = m.groups()
    n = int(size)
    return Component(kind, 1 if variable else n, n, bool(optional),
                     tuple(x for x in linters.split(",") if x))


def _regex(components: tuple[Component, ...]) -> re.Pattern[str]:
    parts = []
    for c in components:
        cls = REGEX_CLASS[c.kind]
        size = f"{{{c.max_length}}}" if c.min_length == c.max_length else f"{{{c.min_length},{c.max_length}}}"
        parts.append(f"({cls}{size})" + ("?" if c.optional else ""))
    return re.compile("".join(parts))


_COUNTRIES = "N3,iso3166 [N3],iso3166 [N3],iso3166 [N3],iso3166 [N3],iso3166"

# One row per AI or AI range: (AIs, title, data format, options). Options: "req=" groups
# separated by "," with "+" joining AIs that must all be present; "ex=" mutually exclusive
# AIs; "dl" the Digital Link attribute flag; "key" or "key=22,10,21|235" a DL primary key
# with its qualifier paths. Facts from the GS1 General Specifications and Barcode Syntax
# Dictionary; written out here as our own table.
_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("00", "SSCC", "N18,csum", "dl key"),
    ("01", "GTIN", "N14,csum", "dl ex=255,37 key=22,10,21|235"),
    ("02", "CONTENT", "N14,csum", "dl ex=01,03 req=37"),
    ("03", "MTO GTIN", "N14,csum", "ex=01,02,37,235"),
    ("10", "BATCH/LOT", "X..20", "dl req=01,02,03,8006,8026"),
    ("11", "PROD DATE", "N6,yymmd0", "dl req=01,02,03,8006,8026"),
    ("12", "DUE DATE", "N6,yymmd0", "dl req=8020"),
    ("13", "PACK DATE", "N6,yymmd0", "dl req=01,02,03,8006,8026"),
    ("15", "BEST BEFORE or BEST BY", "N6,yymmd0", "dl req=01,02,03,8006,8026"),
    ("16", "SELL BY", "N6,yymmd0", "dl req=01,02,03,8006,8026"),
    ("17", "USE BY or EXPIRY", "N6,yymmd0", "dl req=01,02,03,255,8006,8026"),
    ("20", "VARIANT", "N2", "dl req=01,02,03,8006,8026"),
    ("21", "SERIAL", "X..20", "req=01,03,8006 ex=235"),
    ("22", "CPV", "X..20", "req=01"),
    ("235", "TPX", "X..28", "req=01"),
    ("240", "ADDITIONAL ID", "X..30", "dl req=01,02,03,8006,8026"),
    ("241", "CUST. PART No.", "X..30", "dl req=01,02,03,8006,8026"),
    ("242", "MTO VARIANT", "N..6", "dl req=01,02,8006,8026"),
    ("243", "PCN", "X..20", "dl req=01,03"),
    ("250", "SECONDARY SERIAL", "X..30", "dl req=01+21,03+21,8006+21"),
    ("251", "REF. TO SOURCE", "X..30", "dl req=01,03,8006"),
    ("253", "GDTI", "N13,csum [X..17]", "dl key"),
    ("254", "GLN EXTENSION COMPONENT", "X..20", "req=414"),
    ("255", "GCN", "N13,csum [N..12]", "dl key ex=01,02,415,8006,8020,8026"),
    ("30", "VAR. COUNT", "N..8", "dl req=01,02"),
    ("37", "COUNT", "N..8", "dl req=00+02,00+8026"),
    ("3900-3909", "AMOUNT", "N..15", "dl req=255,8020 ex=390n,391n,394n,8111"),
    ("3910-3919", "AMOUNT", "N3,iso4217 N..15", "dl req=8020 ex=391n"),
    ("3920-3929", "PRICE", "N..15", "dl req=01+30,01+31nn,01+32nn,01+35nn,01+36nn ex=392n,393n"),
    ("3930-3939", "PRICE", "N3,iso4217 N..15", "dl req=30,31nn,32nn,35nn,36nn ex=393n"),
    ("3940-3943", "PRCNT OFF", "N4", "dl req=255 ex=394n,8111"),
    ("3950-3955", "PRICE/UoM", "N6", "dl req=30,31nn,32nn,35nn,36nn ex=392n,393n,395n,8005"),
    ("400", "ORDER NUMBER", "X..30", "dl"),
    ("401", "GINC", "X..30", "dl key"),
    ("402", "GSIN", "N17,csum", "dl key"),
    ("403", "ROUTE", "X..30", "dl req=00"),
    ("410", "SHIP TO LOC", "N13,csum", "dl"),
    ("411", "BILL TO", "N13,csum", "dl"),
    ("412", "PURCHASE FROM", "N13,csum", "dl"),
    ("413", "SHIP FOR LOC", "N13,csum", "dl"),
    ("414", "LOC No.", "N13,csum", "dl key=254|7040"),
    ("415", "PAY TO", "N13,csum", "dl req=8020 key=8020"),
    ("416", "PROD/SERV LOC", "N13,csum", "dl"),
    ("417", "PARTY", "N13,csum", "dl key=7040"),
    ("420", "SHIP TO POST", "X..20", "dl ex=421"),
    ("421", "SHIP TO POST", "N3,iso3166 X..9", "dl ex=4307"),
    ("422", "ORIGIN", "N3,iso3166", "dl req=01,02,03,8006,8026 ex=426"),
    # Up to five countries, three digits each.
    ("423", "COUNTRY - INITIAL PROCESS", _COUNTRIES, "dl req=01,02,03 ex=426"),
    ("424", "COUNTRY - PROCESS", "N3,iso3166", "dl req=01,02,03 ex=426"),
    ("425", "COUNTRY - DISASSEMBLY", _COUNTRIES, "dl req=01,02,03 ex=426"),
    ("426", "COUNTRY - FULL PROCESS", "N3,iso3166", "dl req=01,02,03"),
    ("427", "ORIGIN SUBDIVISION", "X..3", "dl req=01+422,02+422,03+422"),
    ("4300", "SHIP TO COMP", "X..35,pcenc", "dl req=00"),
    ("4301", "SHIP TO NAME", "X..35,pcenc", "dl req=00"),
    ("4302", "SHIP TO ADD1", "X..70,pcenc", "dl req=00"),
    ("4303", "SHIP TO ADD2", "X..70,pcenc", "dl req=4302"),
    ("4304", "SHIP TO SUB", "X..70,pcenc", "dl req=00"),
    ("4305", "SHIP TO LOC", "X..70,pcenc", "dl req=00"),
    ("4306", "SHIP TO REG", "X..70,pcenc", "dl req=00"),
    ("4307", "SHIP TO COUNTRY", "X2,iso3166alpha2", "dl req=00"),
    ("4308", "SHIP TO PHONE", "X..30", "dl req=00"),
    ("4309", "SHIP TO GEO", "N10,latitude N10,longitude", "dl req=00"),
    ("4310", "RTN TO COMP", "X..35,pcenc", "dl req=00"),
    ("4311", "RTN TO NAME", "X..35,pcenc", "dl req=00"),
    ("4312", "RTN TO ADD1", "X..70,pcenc", "dl req=00"),
    ("4313", "RTN TO ADD2", "X..70,pcenc", "dl req=4312"),
    ("4314", "RTN TO SUB", "X..70,pcenc", "dl req=00"),
    ("4315", "RTN TO LOC", "X..70,pcenc", "dl req=00"),
    ("4316", "RTN TO REG", "X..70,pcenc", "dl req=00"),
    ("4317", "RTN TO COUNTRY", "X2,iso3166alpha2", "dl req=00"),
    ("4318", "RTN TO POST", "X..20", "dl req=00"),
    ("4319", "RTN TO PHONE", "X..30", "dl req=00"),
    ("4320", "SRV DESCRIPTION", "X..35,pcenc", "dl req=00"),
    ("4321", "DANGEROUS GOODS", "N1,yesno", "dl req=00"),
    ("4322", "AUTH TO LEAVE", "N1,yesno", "dl req=00"),
    ("4323", "SIG REQUIRED", "N1,yesno", "dl req=00"),
    ("4324", "NOT BEF DEL DT", "N6,yymmd0 N4,hhmi", "dl req=00"),
    ("4325", "NOT AFT DEL DT", "N6,yymmd0 N4,hhmi", "dl req=00"),
    ("4326", "REL DATE", "N6,yymmdd", "dl req=00"),
    ("4330", "MAX TEMP F.", "N6 [X1],hyphen", "dl req=00 ex=4331"),
    ("4331", "MAX TEMP C.", "N6 [X1],hyphen", "dl req=00 ex=4330"),
    ("4332", "MIN TEMP F.", "N6 [X1],hyphen", "dl req=00 ex=4333"),
    ("4333", "MIN TEMP C.", "N6 [X1],hyphen", "dl req=00 ex=4332"),
    ("7001", "NSN", "N13", "dl req=01,02,8006,8026"),
    ("7002", "MEAT CUT", "X..30", "dl req=01,02"),
    ("7003", "EXPIRY TIME", "N6,yymmdd N4,hhmi", "dl req=01,02,03"),
    ("7004", "ACTIVE POTENCY", "N..4", "dl req=01+10,03+10"),
    ("7005", "CATCH AREA", "X..12", "dl req=01,02"),
    ("7006", "FIRST FREEZE DATE", "N6,yymmdd", "dl req=01,02"),
    ("7007", "HARVEST DATE", "N6,yymmdd [N6],yymmdd", "dl req=01,02"),
    ("7008", "AQUATIC SPECIES", "X..3", "dl req=01,02"),
    ("7009", "FISHING GEAR TYPE", "X..10", "dl req=01,02"),
    ("7010", "PROD METHOD", "X..2", "dl req=01,02,03"),
    ("7011", "TEST BY DATE", "N6,yymmdd [N4],hhmi", "dl req=01,02,03"),
    ("7020", "REFURB LOT", "X..20", "dl req=01+416,03+416,8006+416"),
    ("7021", "FUNC STAT", "X..20", "dl req=01,03,8006"),
    ("7022", "REV STAT", "X..20", "dl req=01+7021,03+7021,8006+7021"),
    ("7023", "GIAI - ASSEMBLY", "X..30", "dl"),
    ("7030-7039", "PROCESSOR # {0}", "N3,iso3166999 X..27", "dl req=01,02"),
    # Package type codes (UN/ECE Recommendation 21) are not checked: only the format is.
    ("7040", "UIC+EXT", "N1 X1 X1 X1,importeridx", ""),
    ("7041", "UFRGT UNIT TYPE", "X..4", "req=00"),
    ("710", "NHRN PZN", "X..20", "dl req=01"),
    ("711", "NHRN CIP", "X..20", "dl req=01"),
    ("712", "NHRN CN", "X..20", "dl req=01"),
    ("713", "NHRN DRN", "X..20", "dl req=01"),
    ("714", "NHRN AIM", "X..20", "dl req=01"),
    ("715", "NHRN NDC", "X..20", "dl req=01"),
    ("716", "NHRN AIC", "X..20", "dl req=01"),
    ("717", "NHRN SRN", "X..20", "dl req=01"),
    ("7230-7239", "CERT # {1}", "X2 X..28", "dl req=01,8004"),
    ("7240", "PROTOCOL", "X..20", "dl req=01,8006 ex=03"),
    ("7241", "AIDC MEDIA TYPE", "N2,mediatype", "dl req=8017,8018"),
    ("7242", "VCN", "X..25", "dl req=8017,8018"),
    ("7250", "DOB", "N8,yyyymmdd", "dl req=8018 ex=7251"),
    ("7251", "DOB TIME", "N8,yyyymmdd N4,hhmi", "dl req=8018 ex=7250"),
    ("7252", "BIO SEX", "N1,iso5218", "dl req=8018"),
    ("7253", "FAMILY NAME", "X..40,pcenc", "dl req=8017,8018 ex=7256,7259"),
    ("7254", "GIVEN NAME", "X..40,pcenc", "dl req=8017,8018 ex=7256,7259"),
    ("7255", "SUFFIX", "X..10", "dl req=8017,8018 ex=7256,7259"),
    ("7256", "FULL NAME", "X..90,pcenc", "dl req=8017,8018"),
    ("7257", "PERSON ADDR", "X..70,pcenc", "dl req=8018"),
    ("7258", "BIRTH SEQUENCE", "X3,posinseqslash", "dl req=8018+7259"),
    ("7259", "BABY", "X..40,pcenc", "dl req=8018 ex=7256"),
    ("8001", "DIMENSIONS", "N4,nonzero N5,nonzero N3,nonzero N1,winding N1", "dl req=01"),
    ("8002", "CMT No.", "X..20", "dl"),
    ("8003", "GRAI", "N1,zero N13,csum [X..16]", "dl key"),
    ("8004", "GIAI", "X..30", "dl key=7040"),
    ("8005", "PRICE PER UNIT", "N6", "dl req=01,02"),
    ("8006", "ITIP", "N14,csum N4,pieceoftotal", "dl ex=01,03,37 key=22,10,21"),
    ("8007", "IBAN", "X..34,iban", "dl req=415"),
    ("8008", "PROD TIME", "N6,yymmdd N2,hh [N2],mi [N2],ss", "dl req=01,02,03"),
    ("8009", "OPTSEN", "X..50", "dl req=00,01,03"),
    ("8010", "CPID", "Y..30", "dl key=8011"),
    ("8011", "CPID SERIAL", "N..12,nozeroprefix", "req=8010"),
    ("8012", "VERSION", "X..20", "dl req=01,03,8006"),
    ("8013", "GMN", "X..25,csumalpha", "dl key"),
    ("8014", "MUDI", "X..25,csumalpha,hasnondigit", "req=01"),
    ("8017", "GSRN - PROVIDER", "N18,csum", "dl ex=8018 key=8019"),
    ("8018", "GSRN - RECIPIENT", "N18,csum", "dl ex=8017 key=8019"),
    ("8019", "SRIN", "N..10", "req=8017,8018"),
    ("8020", "REF No.", "X..25", "req=415"),
    ("8026", "ITIP CONTENT", "N14,csum N4,pieceoftotal", "dl req=37 ex=02,03,8006"),
    ("8030", "DIGSIG", "Z..90,pad64",
     "dl req=00,01+21,03+21,253,255,8003,8004,8006+21,8010+8011,8017,8018"),
    ("8040", "IMEI", "N15", "req=01+21"),
    ("8041", "IMEI2", "N15", "req=01+21+8040"),
    ("8042", "ESIM", "N32", "req=01+21+8040"),
    ("8043", "PSIM", "N18 [N..2]", "req=01+21+8040"),
    # The coupon code linters of (8110) and (8112) are not applied: only the format is.
    ("8110", "COUPON CODE", "X..70", "dl"),
    ("8111", "POINTS", "N4", "dl req=255"),
    ("8112", "PAPERLESS COUPON", "X..70", "dl"),
    ("8200", "PRODUCT URL", "X..70", "req=01"),
    ("90", "INTERNAL", "X..30", "dl"),
    ("91-99", "INTERNAL", "X..90", "dl"),
)

# Trade measures (variable measure trade items, req=01,02) and logistic measures
# (req=00,01), each with the decimal point position as last digit 0-5.
_MEASURES: tuple[tuple[str, str, str], ...] = (
    ("310", "NET WEIGHT (kg)", "01,02"), ("311", "LENGTH (m)", "01,02"),
    ("312", "WIDTH (m)", "01,02"), ("313", "HEIGHT (m)", "01,02"), ("314", "AREA (m2)", "01,02"),
    ("315", "NET VOLUME (l)", "01,02"), ("316", "NET VOLUME (m3)", "01,02"),
    ("320", "NET WEIGHT (lb)", "01,02"), ("321", "LENGTH (in)", "01,02"),
    ("322", "LENGTH (ft)", "01,02"), ("323", "LENGTH (yd)", "01,02"),
    ("324", "WIDTH (in)", "01,02"), ("325", "WIDTH (ft)", "01,02"), ("326", "WIDTH (yd)", "01,02"),
    ("327", "HEIGHT (in)", "01,02"), ("328", "HEIGHT (ft)", "01,02"),
    ("329", "HEIGHT (yd)", "01,02"),
    ("330", "GROSS WEIGHT (kg)", "00,01"), ("331", "LENGTH (m), log", "00,01"),
    ("332", "WIDTH (m), log", "00,01"), ("333", "HEIGHT (m), log", "00,01"),
    ("334", "AREA (m2), log", "00,01"), ("335", "VOLUME (l), log", "00,01"),
    ("336", "VOLUME (m3), log", "00,01"), ("337", "KG PER m2", "01"),
    ("340", "GROSS WEIGHT (lb)", "00,01"), ("341", "LENGTH (in), log", "00,01"),
    ("342", "LENGTH (ft), log", "00,01"), ("343", "LENGTH (yd), log", "00,01"),
    ("344", "WIDTH (in), log", "00,01"), ("345", "WIDTH (ft), log", "00,01"),
    ("346", "WIDTH (yd), log", "00,01"), ("347", "HEIGHT (in), log", "00,01"),
    ("348", "HEIGHT (ft), log", "00,01"), ("349", "HEIGHT (yd), log", "00,01"),
    ("350", "AREA (in2)", "01,02"), ("351", "AREA (ft2)", "01,02"), ("352", "AREA (yd2)", "01,02"),
    ("353", "AREA (in2), log", "00,01"), ("354", "AREA (ft2), log", "00,01"),
    ("355", "AREA (yd2), log", "00,01"),
    ("356", "NET WEIGHT (tr oz)", "01,02"), ("357", "NET VOLUME (oz)", "01,02"),
    ("360", "NET VOLUME (qt)", "01,02"), ("361", "NET VOLUME (gal.)", "01,02"),
    ("362", "VOLUME (qt), log", "00,01"), ("363", "VOLUME (gal), log", "00,01"),
    ("364", "NET VOLUME (in3)", "01,02"), ("365", "NET VOLUME (ft3)", "01,02"),
    ("366", "NET VOLUME (yd3)", "01,02"),
    ("367", "VOLUME (in3), log", "00,01"), ("368", "VOLUME (ft3), log", "00,01"),
    ("369", "VOLUME (yd3), log", "00,01"),
)


def _expand(ais: str) -> list[str]:
    if "-" not in ais:
        return [ais]
    first, last = ais.split("-")
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


def _all_rows() -> list[tuple[str, str, str, str]]:
    rows = list(_ROWS)
    for family, title, req in _MEASURES:
        rows.append((f"{family}0-{family}5", title, "N6", f"dl req={req} ex={family}n"))
    return rows


def _options(text: str) -> dict[str, str]:
    out = {}
    for word in text.split():
        name, _, value = word.partition("=")
        out[name] = value
    return out


def _build() -> dict[str, AISpec]:
    rows = _all_rows()
    known = {ai for ais, *_ in rows for ai in _expand(ais)}

    def pattern_known(token: str) -> bool:
        prefix = token.rstrip("n")
        return any(len(ai) == len(token) and ai.startswith(prefix) for ai in known)

    table: dict[str, AISpec] = {}
    for ais, title, fmt, opts in rows:
        o = _options(opts)
        components = tuple(_component(c) for c in fmt.split())
        checks = []
        date_kind = None
        for index, c in enumerate(components, start=1):
            for linter in c.linters:
                checks.append((index, _LINTERS[linter]))
                if linter in ("yymmd0", "yymmdd") and date_kind is None:
                    date_kind = linter
        # A requirement group that names an AI outside our table can never be met by
        # data we accept, so it is left out rather than shown in messages.
        requires = tuple(
            tuple(group.split("+")) for group in o["req"].split(",")
            if all(pattern_known(t) for t in group.split("+"))
        ) if "req" in o else ()
        excludes = tuple(t for t in o.get("ex", "").split(",") if t and pattern_known(t))
        qualifiers = None
        if "key" in o:
            qualifiers = tuple(tuple(p.split(",")) for p in o["key"].split("|")) if o["key"] else ((),)
            qualifiers = tuple(tuple(q for q in path if q in known) for path in qualifiers)
        for offset, ai in enumerate(_expand(ais)):
            table[ai] = AISpec(
                ai=ai, title=title.format(offset, offset + 1) if "{" in title else title, components=components,
                separator_required=ai[:2] not in PREDEFINED_LENGTH_PREFIXES,
                requires=requires, excludes=excludes, dl_attribute="dl" in o,
                dl_qualifiers=qualifiers, date_kind=date_kind,
                min_length=sum(c.min_length for c in components if not c.optional),
                max_length=sum(c.max_length for c in components),
                pattern=_regex(components), checks=tuple(checks),
            )
    return table


# Plain dicts for the scan path (a mappingproxy lookup costs twice as much); the public
# names are read-only views of them.
TABLE: dict[str, AISpec] = _build()
AI_TABLE: Mapping[str, AISpec] = MappingProxyType(TABLE)

# The first two digits of an AI fix its length; the scan parser relies on that.
AI_LENGTH: dict[str, int] = {ai[:2]: len(ai) for ai in TABLE}
AI_LENGTH_BY_PREFIX: Mapping[str, int] = MappingProxyType(AI_LENGTH)
assert all(len(ai) == AI_LENGTH[ai[:2]] for ai in TABLE)


def ai_spec(ai: str) -> AISpec:
    """Return the table entry of an AI, or raise GS1Error for an AI we do not know."""
    spec = TABLE.get(ai) if isinstance(ai, str) else None
    if spec is None:
        raise GS1Error(_l("unknown AI (%(ai)s)", ai=ai))
    return spec


def matches(token: str, ai: str) -> bool:
    """Tell whether an AI matches a table token such as "01", "310n" or "31nn"."""
    if len(token) != len(ai):
        return False
    prefix = token.rstrip("n")
    return ai.startswith(prefix)

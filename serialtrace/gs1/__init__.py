"""GS1 rules shared by the label builder and the scan parser: AIs, check digits, dates, Digital Link."""

from .charsets import CSET39, CSET64, CSET82, is_cset39, is_cset82
from .checkdigit import check_digit, is_valid_check_digit
from .dates import parse_date
from .digital_link import CONVENIENCE_ALPHAS, build_digital_link, parse_digital_link
from .element import (
    FNC1,
    GS,
    GS1_128_MAX_DATA,
    OPTIONAL_DATES,
    build_bracketed,
    build_element_string,
    build_fnc1_data,
    fit_gs1_128,
    fits_gs1_128,
    gs1_128_length,
    parse_bracketed,
    parse_element_string,
)
from .errors import GS1Error, SearchTooComplex
from .rules import validate
from .splits import split_readings
from .table import AI_TABLE, PREDEFINED_LENGTH_PREFIXES, AISpec, Component, ai_spec

__all__ = [
    "AI_TABLE", "AISpec", "CONVENIENCE_ALPHAS", "CSET39", "CSET64", "CSET82", "Component", "FNC1",
    "GS", "GS1Error", "GS1_128_MAX_DATA", "OPTIONAL_DATES", "PREDEFINED_LENGTH_PREFIXES", "ai_spec",
    "build_bracketed", "build_digital_link", "build_element_string", "build_fnc1_data",
    "check_digit", "fit_gs1_128", "fits_gs1_128", "gs1_128_length", "is_cset39", "is_cset82",
    "is_valid_check_digit", "parse_bracketed", "parse_date", "parse_digital_link",
    "parse_element_string", "SearchTooComplex", "split_readings", "validate",
]

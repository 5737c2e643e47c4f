"""Content checks of AI components beyond format and check digit: code lists, times, IBAN."""

from __future__ import annotations

import datetime
import re
from operator import mul
from typing import NoReturn

from .charsets import is_cset82
from .errors import GS1Error

# ISO 3166-1 numeric country codes (the 249 officially assigned ones).
ISO3166_NUMERIC = frozenset("""
004 008 010 012 016 020 024 028 031 032 036 040 044 048 050 051 052 056 060 064 068 070 072 074
076 084 086 090 092 096 100 104 108 112 116 120 124 132 136 140 144 148 152 156 158 162 166 170
174 175 178 180 184 188 191 192 196 203 204 208 212 214 218 222 226 231 232 233 234 238 239 242
246 248 250 254 258 260 262 266 268 270 275 276 288 292 296 300 304 308 312 316 320 324 328 332
334 336 340 344 348 352 356 360 364 368 372 376 380 384 388 392 398 400 404 408 410 414 417 418
422 426 428 430 434 438 440 442 446 450 454 458 462 466 470 474 478 480 484 492 496 498 499 500
504 508 512 516 520 524 528 531 533 534 535 540 548 554 558 562 566 570 574 578 580 581 583 584
585 586 591 598 600 604 608 612 616 620 624 626 630 634 638 642 643 646 652 654 659 660 662 663
666 670 674 678 682 686 688 690 694 702 703 704 705 706 710 716 724 728 729 732 740 744 748 752
756 760 762 764 768 772 776 780 784 788 792 795 796 798 800 804 807 818 826 831 832 833 834 840
850 854 858 860 862 876 882 887 894
""".split())

# ISO 3166-1 alpha-2 country codes.
ISO3166_ALPHA2 = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

# ISO 4217 numeric currency codes, including funds and precious-metal codes (9xx) and the
# Bulgarian lev (975), still valid in GS1 data during the change to the euro.
ISO4217_NUMERIC = frozenset("""
008 012 032 036 044 048 050 051 052 060 064 068 072 084 090 096 104 108 116 124 132 136 144 152
156 170 174 188 192 203 208 214 222 230 232 238 242 262 270 292 320 324 328 332 340 344 348 352
356 360 364 368 376 388 392 396 398 400 404 408 410 414 417 418 422 426 430 434 446 454 458 462
480 484 496 498 504 512 516 524 532 533 548 554 558 566 578 586 590 598 600 604 608 634 643 646
654 682 690 702 704 706 710 728 748 752 756 760 764 776 780 784 788 800 807 818 826 834 840 858
860 882 886 901 924 925 926 927 928 929 930 933 934 936 938 940 941 943 944 946 947 948 949 950
951 952 953 955 956 957 958 959 960 961 962 963 964 965 967 968 969 970 971 972 973 975 976 977
978 979 980 981 984 985 986 990 994 997 999
""".split())

# AIDC media types of AI (7241): 01-10 assigned by GS1, 80-99 for company internal use.
MEDIA_TYPES = frozenset([f"{n:02d}" for n in range(1, 11)] + [str(n) for n in range(80, 100)])

# The check character pair of AI (8013) and (8014) (GS1 General Specifications 7.9.5):
# prime weights from the right over the character set 82 positions, sum modulo 1021 written
# as two characters of this 32-character set.
_CSET82_ORDER = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
# Each character as the code point of its value, so one translate and a C-level sum of
# products do what a Python loop per character did: the scan parser tries many candidate
# values of (8013) when separators are missing.
_CSET82_CODES = str.maketrans({c: chr(i) for i, c in enumerate(_CSET82_ORDER)})
_CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_PRIMES = tuple(n for n in range(2, 600) if all(n % d for d in range(2, int(n ** 0.5) + 1)))

_IMPORTER_INDEX = frozenset("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_POSITION = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)$")
_IBAN = re.compile(r"[A-Z0-9]*$")
# Letters as their ISO 13616 numbers (A=10 ... Z=35), digits as themselves.
_IBAN_NUMBERS = str.maketrans({c: str(int(c, 36)) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})


def _fail(ai: str, what: str) -> NoReturn:
    raise GS1Error(f"({ai}) {what}")


def iso3166(ai: str, part: str) -> None:
    if part not in ISO3166_NUMERIC:
        _fail(ai, f"{part} is not an ISO 3166 country code")


def iso3166_or_999(ai: str, part: str) -> None:
    if part != "999" and part not in ISO3166_NUMERIC:
        _fail(ai, f"{part} is not an ISO 3166 country code or 999")


def iso3166_alpha2(ai: str, part: str) -> None:
    if part not in ISO3166_ALPHA2:
        _fail(ai, f"{part} is not an ISO 3166 alpha-2 country code")


def iso4217(ai: str, part: str) -> None:
    if part not in ISO4217_NUMERIC:
        _fail(ai, f"{part} is not an ISO 4217 currency code")


def nonzero(ai: str, part: str) -> None:
    if not part.isdigit():
        _fail(ai, f"{part} must be digits")
    if not part.strip("0"):
        _fail(ai, f"{part} must not be zero")


def winding(ai: str, part: str) -> None:
    if part not in ("0", "1", "9"):
        _fail(ai, f"winding direction {part} is not 0, 1 or 9")


def yesno(ai: str, part: str) -> None:
    if part not in ("0", "1"):
        _fail(ai, f"{part} is not 0 (no) or 1 (yes)")


def iso5218(ai: str, part: str) -> None:
    if part not in ("0", "1", "2", "9"):
        _fail(ai, f"{part} is not an ISO/IEC 5218 sex code (0, 1, 2 or 9)")


def hour(ai: str, part: str) -> None:
    if len(part) != 2 or not part.isdigit() or part > "23":
        _fail(ai, f"hour {part} is not 00-23")


def minute(ai: str, part: str) -> None:
    if len(part) != 2 or not part.isdigit() or part > "59":
        _fail(ai, f"minute {part} is not 00-59")


def second(ai: str, part: str) -> None:
    if len(part) != 2 or not part.isdigit() or part > "59":
        _fail(ai, f"second {part} is not 00-59")


def hhmi(ai: str, part: str) -> None:
    if len(part) != 4:
        _fail(ai, f"time {part} is not HHMI")
    hour(ai, part[:2])
    minute(ai, part[2:])


def yyyymmdd(ai: str, part: str) -> None:
    try:
        if len(part) != 8 or not part.isdigit():
            raise ValueError
        datetime.date(int(part[:4]), int(part[4:6]), int(part[6:]))
    except ValueError:
        _fail(ai, f"{part} is not a valid date YYYYMMDD")


def latitude(ai: str, part: str) -> None:
    if len(part) != 10 or not part.isdigit() or int(part) > 1_800_000_000:
        _fail(ai, f"latitude {part} is not 0000000000-1800000000")


def longitude(ai: str, part: str) -> None:
    if len(part) != 10 or not part.isdigit() or int(part) > 3_600_000_000:
        _fail(ai, f"longitude {part} is not 0000000000-3600000000")


def hyphen(ai: str, part: str) -> None:
    if not part or part.strip("-"):
        _fail(ai, f"{part!r} may only be hyphens")


def percent_encoded(ai: str, part: str) -> None:
    if "%" in part and _PERCENT.search(part):
        _fail(ai, "'%' must start a percent-escape of two hex digits")


def has_non_digit(ai: str, part: str) -> None:
    if part.isdigit() or not part:
        _fail(ai, f"{part} needs at least one character that is not a digit")


def media_type(ai: str, part: str) -> None:
    if part not in MEDIA_TYPES:
        _fail(ai, f"{part} is not an AIDC media type (01-10, 80-99)")


def importer_index(ai: str, part: str) -> None:
    if len(part) != 1 or part not in _IMPORTER_INDEX:
        _fail(ai, f"importer index {part!r} is not one of 0-9, A-Z, a-z, '-' or '_'")


def position_in_sequence(ai: str, part: str) -> None:
    m = _POSITION.match(part)
    if m is None:
        _fail(ai, f"{part} is not position/total without leading zeros")
    if int(m.group(1)) > int(m.group(2)):
        _fail(ai, f"position {m.group(1)} is past the total {m.group(2)}")


def iban(ai: str, part: str) -> None:
    if len(part) < 5:
        _fail(ai, f"IBAN {part} is too short")
    if len(part) > 34:
        _fail(ai, f"IBAN {part} is too long")
    if _IBAN.match(part) is None:
        _fail(ai, f"IBAN {part} may only hold digits and capital letters")
    if part[:2] not in ISO3166_ALPHA2:
        _fail(ai, f"IBAN {part} does not start with an ISO 3166 country code")
    if int((part[4:] + part[:4]).translate(_IBAN_NUMBERS)) % 97 != 1:
        _fail(ai, f"IBAN {part} has a wrong check number")


def csum_alpha(ai: str, part: str) -> None:
    if len(part) < 2:
        _fail(ai, f"{part} is too short for a check character pair")
    body, pair = part[:-2], part[-2:]
    if len(body) > len(_PRIMES):
        _fail(ai, f"{part} is too long for a check character pair")
    if not is_cset82(body):
        _fail(ai, f"{part} has a character outside character set 82")
    total = sum(map(mul, body[::-1].translate(_CSET82_CODES).encode("latin-1"), _PRIMES)) % 1021
    expected = _CSET32[total >> 5] + _CSET32[total & 31]
    if pair != expected:
        _fail(ai, f"check character pair is {pair}, expected {expected}")

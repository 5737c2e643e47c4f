"""Code 128 subset planning for ZPL `^BC` in no-mode (`>` invocation codes), plus module counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

GS = "\x1d"


@dataclass(frozen=True, slots=True)
class Plan:
    """ZPL field data for `^BC...,N` and the number of Code 128 symbol characters it makes."""

    zpl: str
    codewords: int  # start, data, shifts and FNC1, check; without the stop pattern

    @property
    def modules(self) -> int:
        """Width of the symbol in modules, stop pattern included, quiet zones excluded."""
        return 11 * self.codewords + 13


_TOKENS = re.compile(r"([0-9]+)|(\x1d)|([^0-9\x1d]+)")


@lru_cache(maxsize=8)  # a label's data is planned twice in a row: to size it and to write it
def plan(data: str, *, gs1: bool) -> Plan:
    """Plan subsets B and C for `data` (GS = FNC1); `>` becomes `>0` (its Code 128 value 30).

    Subset C is used for runs of four or more digits, which never makes the symbol longer.
    """
    out: list[str] = []
    codewords = 2  # start and check characters
    first = _TOKENS.match(data)
    lead = len(first.group(1) or "") if first else 0
    subset = "C" if lead >= 4 or (lead >= 2 and lead == len(data) and lead % 2 == 0) else "B"
    out.append(">;" if subset == "C" else ">:")
    if gs1:
        out.append(">8")
        codewords += 1
    for digits, separator, text in _TOKENS.findall(data):
        if separator:
            out.append(">8")
            codewords += 1
        elif text:
            if subset == "C":
                out.append(">6")
                codewords += 1
                subset = "B"
            # ZPL reads `>` as an invocation code, so a literal `>` is sent as `>0`
            # (`><` would be value 62, the caret).
            out.append(text.replace(">", ">0"))
            codewords += len(text)
        elif subset == "C":
            even = len(digits) - len(digits) % 2
            out.append(digits[:even])
            codewords += even // 2
            if even < len(digits):
                out.append(">6" + digits[-1])
                codewords += 2
                subset = "B"
        elif len(digits) >= 4:
            odd = len(digits) % 2
            out.append(digits[:odd] + ">5" + digits[odd:])
            codewords += odd + 1 + len(digits) // 2
            subset = "C"
        else:
            out.append(digits)
            codewords += len(digits)
    return Plan("".join(out), codewords)

"""Code 128 subset planning for ZPL `^BC` in no-mode (`>` invocation codes), plus module counts."""

from __future__ import annotations

from dataclasses import dataclass

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


def _digits_from(data: str, i: int) -> int:
    j = i
    while j < len(data) and "0" <= data[j] <= "9":
        j += 1
    return j - i


def plan(data: str, *, gs1: bool) -> Plan:
    """Plan subsets B and C for `data` (GS = FNC1); `>` becomes `>0` (its Code 128 value 30).

    Subset C is used for runs of four or more digits, which never makes the symbol longer.
    """
    out: list[str] = []
    codewords = 2  # start and check characters
    run = _digits_from(data, 0)
    subset = "C" if run >= 4 or (run >= 2 and run == len(data) and run % 2 == 0) else "B"
    out.append(">;" if subset == "C" else ">:")
    if gs1:
        out.append(">8")
        codewords += 1
    i = 0
    n = len(data)
    while i < n:
        char = data[i]
        if char == GS:
            out.append(">8")
            codewords += 1
            i += 1
        elif subset == "C":
            if i + 1 < n and "0" <= char <= "9" and "0" <= data[i + 1] <= "9":
                out.append(data[i : i + 2])
                codewords += 1
                i += 2
            else:
                out.append(">6")
                codewords += 1
                subset = "B"
        else:
            run = _digits_from(data, i)
            if run >= 4 and run % 2 == 0:
                out.append(">5")
                codewords += 1
                subset = "C"
                continue
            # ZPL reads `>` as an invocation code, so a literal `>` is sent as `>0`
            # (`><` would be value 62, the caret).
            out.append(">0" if char == ">" else char)
            codewords += 1
            i += 1
    return Plan("".join(out), codewords)

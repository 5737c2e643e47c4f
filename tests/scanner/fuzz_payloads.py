"""A fast, seeded generator of hostile scan payloads for fuzzing parse_scan (the bench script and a slow test)."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from pathlib import Path

from serialtrace import gs1
from serialtrace.gs1 import rules
from serialtrace.scanner import ScannerProfile
from serialtrace.scanner.parse import MAX_SCAN_LENGTH
from serialtrace.scanner.wedge import ALT_029

GS = "\x1d"
_ROOT = Path(__file__).resolve().parents[2]
VECTOR_FILES = (_ROOT / "tests" / "data" / "gs1_vectors" / "gs1-syntax-engine-vectors.json",
                _ROOT.parent / "shared" / "gs1-vectors" / "gs1-syntax-engine-vectors.json")
# AIM identifiers: the GS1 ones, EAN/UPC, plain Code 128/DataMatrix/QR, and malformed ones.
SYMBOLOGY_IDS = ("]C1", "]d2", "]Q3", "]e0", "]J1", "]z1", "]E0", "]E3", "]E4", "]C0", "]d1", "]Q1", "]Q0", "]X0",
                 "]A0", "]I1", "]L2", "]e1", "]d0", "]Z9", "]", "]]", "]C", "]\x1d1", "]c1", "]D2", "]E9", "]Ё1")
SEPARATORS = (GS, GS, GS, "^", "~", "|", ALT_029, "", "\x1e", "\x04", "\r\n", "\t")
HOSTS = ("id.gs1.org", "example.com", "ID.EXAMPLE.COM", "[::1]", "[2001:db8::1]:8443", "127.0.0.1:80",
         "xn--bcher-kva.example", "bücher.example", "a" * 300, "", "user:pw@host.example", "host:99999",
         "host.example:", "-.-", "[zz::]", "host.example%2F", "例え.テスト", "a..b", "..", "[", "host\x00.example")
SCHEMES = ("https://", "http://", "HTTPS://", "HtTpS://", "https:/", "https:///", "ftp://", "https://https://")
# Code points a wedge scanner, a keyboard layout or a broken decoder can produce, and the awkward ones.
_ODD_CHARS = ("\x00", "\x1d", "\x1e", "\x04", "\x7f", "\x80", "\x9b", "\u00a0", "\u2194", "\u200b", "\u202e",
              "\ufeff", "\ufffd", "\ud800", "\udfff", "\udc80", "\U0001f600", "\U0010ffff", "\uff10", "\u0663",
              "\u096f", "\u2460", "\u00b2", "Ё", "Й", "Ы", "Т", "ß", "İ", "ﬁ", "\u0301", "(", ")", "%", "/", "?",
              "#", "&", "=", "\\", "]", "[", "\n", "\r", "\t", " ")
_ASCII = string.printable
_RANGES = ((0x20, 0x7e), (0x00, 0x1f), (0x80, 0x2ff), (0x400, 0x4ff), (0x600, 0x6ff), (0x3000, 0x30ff),
           (0xd800, 0xdfff), (0xff00, 0xffef), (0x1f300, 0x1f64f), (0x0, 0x10ffff))


def load_vectors() -> list[str]:
    """Every string the GS1 Syntax Engine vectors feed a parser: scan data, element strings, URIs, linter inputs."""
    seen: dict[str, None] = {}
    for path in VECTOR_FILES:
        if not path.is_file():
            continue
        for vector in json.loads(path.read_text(encoding="utf-8"))["vectors"]:
            for key in ("scan_data", "expected_scan_data", "bracketed_input", "expected_dl_uri", "dl_uri", "input",
                        "data_str", "expected_data_str"):
                value = vector.get(key)
                if isinstance(value, str):
                    seen[value] = None
            for key in ("unbracketed_input", "expected_unbracketed"):
                value = vector.get(key)
                if isinstance(value, str):
                    # "^" is FNC1: leading means GS1 data, later ones are separators a scanner sends as GS.
                    seen[value] = None
                    seen[value.replace("^", GS)] = None
                    seen["]C1" + value[1:].replace("^", GS)] = None
    return list(seen)


class PayloadGenerator:
    """Seeded payloads: pre-built pools of GS1 parts, vectors and URIs, combined and mutated with random.Random."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.specs = sorted(gs1.AI_TABLE.values(), key=lambda s: s.ai)
        self.vectors = load_vectors()
        linter_inputs = [v for v in self.vectors if v and v.isascii() and len(v) < 40]
        self.valid: dict[str, list[str]] = {}
        self.broken: dict[str, list[str]] = {}
        for spec in self.specs:
            good, bad = [], []
            for _ in range(12):
                value = self._value(spec)
                (good if _passes(spec, value) else bad).append(value)
            for value in self.rng.sample(linter_inputs, 4):
                (good if _passes(spec, value) else bad).append(value)
            bad.extend(self._break(spec, v) for v in good[:4])
            self.valid[spec.ai] = good or bad
            self.broken[spec.ai] = bad or good
        self.ais = [s.ai for s in self.specs]
        self.dl_keys = [s.ai for s in self.specs if s.is_dl_primary_key] + list(gs1.CONVENIENCE_ALPHAS)
        self.seeds: list[str] = []
        for _ in range(2000):
            self.seeds.append(self._fresh())
        self.seeds.extend(self.vectors)
        self.generators = (
            (self._fresh, 30), (self._mutated_seed, 30), (self._spliced, 8), (self._random_text, 10),
            (self._huge, 3), (self._near_cap, 2), (self._vector, 10), (self._wedge_noise, 7),
        )
        self.choices = [g for g, weight in self.generators for _ in range(weight)]

    # --- values ----------------------------------------------------------------------------------------------

    def _value(self, spec: gs1.AISpec) -> str:
        """A value shaped by the AI's components: right character set, a check digit or date where it needs one."""
        rng = self.rng
        parts = []
        for c in spec.components:
            if c.optional and rng.random() < 0.3:
                break
            size = rng.randint(c.min_length, c.max_length)
            if "yymmd0" in c.linters or "yymmdd" in c.linters:
                dd = rng.choice(["00", "01", "15", "28", "29", "30", "31"]) if "yymmd0" in c.linters else \
                    f"{rng.randint(1, 31):02d}"
                part = f"{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}{dd}"[:size].ljust(size, "0")
            elif "yyyymmdd" in c.linters:
                part = f"{rng.randint(1900, 2099)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"[:size]
            elif "iso3166" in c.linters or "iso3166999" in c.linters or "iso4217" in c.linters:
                part = rng.choice(["276", "250", "840", "643", "999", "978", "000"])[:size]
            else:
                alphabet = {"N": "0123456789", "X": "".join(sorted(gs1.CSET82)), "Y": "".join(sorted(gs1.CSET39)),
                            "Z": "".join(sorted(gs1.CSET64))}[c.kind]
                part = "".join(rng.choice(alphabet) for _ in range(size))
            if "csum" in c.linters and size > 1 and part.isdigit():
                part = part[:-1] + gs1.check_digit(part[:-1])
            parts.append(part)
        return "".join(parts)

    def _break(self, spec: gs1.AISpec, value: str) -> str:
        """The value with one rule broken: length, character set, check digit, date or an odd character."""
        rng = self.rng
        how = rng.randrange(6)
        if how == 0:
            return value + rng.choice("0123456789A") * rng.randint(1, 40)
        if how == 1:
            return value[: rng.randrange(max(1, len(value)))]
        if how == 2 and value:
            i = rng.randrange(len(value))
            return value[:i] + rng.choice(_ODD_CHARS) + value[i + 1:]
        if how == 3 and value and value[-1].isdigit():
            return value[:-1] + str((int(value[-1]) + 1) % 10)
        if how == 4:
            return "991399" + value[6:] if len(value) >= 6 else "0"
        return ""

    def _pairs(self, count: int) -> list[tuple[str, str]]:
        rng = self.rng
        pairs = []
        if rng.random() < 0.7:
            pairs.append(("01", rng.choice(self.valid["01"])))
        for _ in range(count):
            ai = rng.choice(self.ais) if rng.random() < 0.6 else rng.choice(("10", "21", "17", "11", "91", "240"))
            pool = self.valid[ai] if rng.random() < 0.8 else self.broken[ai]
            pairs.append((ai, rng.choice(pool)))
        if rng.random() < 0.05:
            pairs.append((rng.choice(("9", "999", "23", "2", "0", "7231", "4321")), "X"))  # unknown or partial AIs
        return pairs

    # --- shapes ----------------------------------------------------------------------------------------------

    def _element_string(self) -> str:
        rng = self.rng
        pairs = self._pairs(rng.randint(0, 6))
        sep = rng.choice(SEPARATORS)
        body = ""
        for ai, value in pairs:
            spec = gs1.AI_TABLE.get(ai)
            needs = spec is None or spec.separator_required
            body += ai + value + (sep if needs or rng.random() < 0.1 else "")
        if rng.random() < 0.7:
            body = body.rstrip(sep) if sep else body
        head = rng.choice(SYMBOLOGY_IDS[:8]) if rng.random() < 0.7 else \
            rng.choice((GS, "^", "", rng.choice(SYMBOLOGY_IDS)))
        return head + body

    def _bracketed(self) -> str:
        rng = self.rng
        text = "".join(f"({ai}){value}" for ai, value in self._pairs(rng.randint(0, 6)))
        if rng.random() < 0.2:
            text = text.replace("(", rng.choice(("\\(", "((", "[", "(  ")), rng.randint(1, 3))
        return (rng.choice(SYMBOLOGY_IDS) if rng.random() < 0.3 else "") + text

    def _digital_link(self) -> str:
        rng = self.rng
        key = rng.choice(self.dl_keys)
        spec = gs1.AI_TABLE.get(gs1.CONVENIENCE_ALPHAS.get(key, key))
        path = f"/{key}/{rng.choice(self.valid[spec.ai] if spec else ['09506000134352'])}"
        for ai, value in self._pairs(rng.randint(0, 3))[1:]:
            path += f"/{ai}/{_percent(rng, value)}"
        if rng.random() < 0.2:
            path = rng.choice(("/some/prefix", "/01", "//", "/%", "/%zz", "/%C3%28", "/%ED%A0%80")) + path
        query = "&".join(f"{ai}={_percent(rng, v)}" for ai, v in self._pairs(rng.randint(0, 3))[1:])
        if rng.random() < 0.2:
            query += rng.choice(("&", "&&", "=", "%", "%2", "%G0", "linkType=gs1:pip", "a=b=c", "17=%00", "#frag"))
        uri = rng.choice(SCHEMES) + rng.choice(HOSTS) + path + ("?" + query if query else "")
        if rng.random() < 0.05:
            uri += "/21/" + "%41" * rng.randint(100, 3000)
        return (rng.choice(("]Q1", "]Q3", "]d1", "]C1", "]E0")) if rng.random() < 0.25 else "") + uri

    def _ean(self) -> str:
        rng = self.rng
        size = rng.choice((8, 12, 13, 13, 14, 15, 18, 7))
        body = "".join(rng.choice("0123456789") for _ in range(size - 1))
        digits = body + (gs1.check_digit(body) if rng.random() < 0.7 else rng.choice("0123456789"))
        head = rng.choice(("]E0", "]E3", "]E4", "]E1", "", ""))
        tail = "|]e0" + self._element_string()[3:] if rng.random() < 0.2 else ""
        return head + digits + tail

    def _fresh(self) -> str:
        shape = self.rng.randrange(10)
        if shape < 4:
            return self._element_string()
        if shape < 6:
            return self._digital_link()
        if shape < 7:
            return self._bracketed()
        if shape < 8:
            return self._ean()
        if shape < 9:
            return "[)>\x1e06" + GS + self._element_string()[3:] + "\x1e\x04"
        return self.rng.choice(("SN-", "ЫТ", "sn", "", "0")) + "".join(
            self.rng.choice(_ASCII) for _ in range(self.rng.randint(0, 30)))

    def _random_text(self) -> str:
        rng = self.rng
        out = []
        for _ in range(rng.randint(0, 6)):
            low, high = rng.choice(_RANGES)
            out.append("".join(chr(rng.randint(low, high)) for _ in range(rng.randint(1, 20))))
        text = "".join(out)
        if rng.random() < 0.3:
            # Bytes read as text the ways a bad decoder or a driver does it.
            raw = bytes(rng.randrange(256) for _ in range(2 * rng.randint(1, 30)))  # even: UTF-16 takes pairs
            encoding, errors = rng.choice((("latin-1", "strict"), ("utf-8", "replace"), ("utf-8", "surrogateescape"),
                                           ("cp1251", "replace"), ("utf-16-le", "surrogatepass"), ("utf-8", "ignore")))
            try:
                text = raw.decode(encoding, errors)
            except UnicodeDecodeError:  # UTF-16 code units that are not even surrogates
                text = raw.decode("utf-16-le", "replace")
        return (rng.choice(SYMBOLOGY_IDS) if rng.random() < 0.3 else "") + text

    def _mutate(self, text: str) -> str:
        rng = self.rng
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(9)
            i = rng.randrange(len(text) + 1)
            if op == 0:
                text = text[:i] + rng.choice(_ODD_CHARS) + text[i:]
            elif op == 1 and text:
                text = text[:i] + text[i + 1:]
            elif op == 2 and text:
                j = min(len(text), i + rng.randint(1, 8))
                text = text[:i] + text[i:j] * rng.randint(2, 50) + text[j:]
            elif op == 3:
                text = text[:i] + rng.choice(SEPARATORS) + text[i:]
            elif op == 4 and text:
                k = rng.randrange(len(text))
                text = text[:k] + chr(ord(text[k]) ^ (1 << rng.randrange(8))) + text[k + 1:]
            elif op == 5:
                text = text[:i] + rng.choice(self.ais) + text[i:]
            elif op == 6:
                text = text[:i]
            elif op == 7:
                text = rng.choice(SYMBOLOGY_IDS) + text
            else:
                text = text[:i] + rng.choice(("(", ")", "%", "%2", "/01/", "?", "://", "\\(")) + text[i:]
        return text

    def _mutated_seed(self) -> str:
        return self._mutate(self.rng.choice(self.seeds))

    def _spliced(self) -> str:
        a, b = self.rng.choice(self.seeds), self.rng.choice(self.seeds)
        return a[: self.rng.randint(0, len(a))] + b[self.rng.randint(0, len(b)):]

    def _vector(self) -> str:
        text = self.rng.choice(self.vectors)
        return self._mutate(text) if self.rng.random() < 0.5 else text

    def _huge(self) -> str:
        rng = self.rng
        unit = rng.choice(self.seeds)[: rng.randint(1, 40)] or "1"
        head = rng.choice(("", "]d2", "]C1", GS, "https://x.example/01/"))
        return head + unit * (rng.randint(100, 12_000) // len(unit) + 1)

    def _near_cap(self) -> str:
        rng = self.rng
        head = rng.choice(("]d201" + "09506000134352", "]d2", "]C1", "https://id.gs1.org/01/09506000134352/21/", ""))
        unit = rng.choice(("10", "91", "21A", "991231", "8013AB", "2012", "%41", "/21/A", GS, "A", "0"))
        text = head + unit * ((MAX_SCAN_LENGTH - len(head)) // len(unit) + 1)
        return text[: MAX_SCAN_LENGTH + rng.randint(-2, 1)]

    def _wedge_noise(self) -> str:
        rng = self.rng
        text = self._fresh()
        return rng.choice(("", "\x02", "ЫТ", "[", "\ufeff")) + text + rng.choice(("\r\n", "\n", "\t", "\r", "\x03", ""))

    # --- the stream ------------------------------------------------------------------------------------------

    def payload(self) -> str:
        """One payload."""
        return self.rng.choice(self.choices)()

    def profile(self) -> ScannerProfile | None:
        """No profile mostly (as the API parses), else a wedge profile with odd affixes or separators."""
        rng = self.rng
        if rng.random() < 0.8:
            return None
        return ScannerProfile(prefix=rng.choice(("", "", "[", "]", "Ы", "\x02")),
                              suffix=rng.choice(("", "\r", "~", "Й")), separator=rng.choice(SEPARATORS[:8]),
                              layout=rng.choice((None, "latin", "ru")))

    def __iter__(self) -> Iterator[tuple[str, ScannerProfile | None]]:
        while True:
            yield self.payload(), self.profile()


def _passes(spec: gs1.AISpec, value: str) -> bool:
    try:
        rules.check_value(spec, value)
    except gs1.GS1Error:
        return False
    return True


def _percent(rng: random.Random, value: str) -> str:
    """The value percent-encoded as a Digital Link wants it, or left raw, or broken."""
    how = rng.randrange(5)
    if how == 0:
        return value
    if how == 1:
        return "".join(c if c.isalnum() else f"%{ord(c):02X}" for c in value if ord(c) < 256)
    if how == 2:
        return "".join(f"%{b:02x}" for b in value.encode("utf-8", "surrogatepass"))
    if how == 3:
        return value + rng.choice(("%", "%4", "%ZZ", "%C3", "%FF%FE", "%00", "%2F", "%25", "%E2%82"))
    return value.replace(rng.choice(value or "x"), "%", 1)

"""Fonts for the PDF writer: embedded DejaVu Sans for any script, base-14 Helvetica as fallback."""

from __future__ import annotations

import zlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab.pdfbase.pdfmetrics import stringWidth

DEJAVU_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/local/share/fonts/DejaVuSans.ttf"),
)
_LITERAL = str.maketrans({"\\": "\\\\", "(": "\\(", ")": "\\)"})


class Helvetica:
    """Base-14 Helvetica, WinAnsi only: other characters print as '?'."""

    def width(self, text: str) -> float:
        """Width of `text` at 1 pt."""
        return stringWidth(text, "Helvetica", 1.0)

    def encode(self, text: str) -> bytes:
        """`text` as a PDF string operand for Tj."""
        return b"(" + text.translate(_LITERAL).encode("cp1252", errors="replace") + b")"

    def head(self) -> bytes:
        """The font dictionary (written before the pages)."""
        return b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"

    def tail(self, first: int) -> tuple[bytes | None, list[bytes]]:
        """Nothing to add after the pages."""
        return None, []


@lru_cache(maxsize=2)
def _load(path: Path) -> tuple[bytes, bytes, dict[int, int], dict[int, float], dict[str, Any]]:
    from reportlab.pdfbase.ttfonts import TTFontFile

    font = TTFontFile(str(path))
    raw = path.read_bytes()
    info = {"name": font.name, "ascent": font.ascent, "descent": font.descent, "cap": font.capHeight,
            "bbox": font.bbox, "flags": font.flags, "stem": font.stemV, "italic": font.italicAngle}
    return raw, zlib.compress(raw, 6), dict(font.charToGlyph), dict(font.charWidths), info


class EmbeddedTrueType:
    """A TrueType font embedded once per file and addressed by glyph id (Identity-H)."""

    def __init__(self, path: Path) -> None:
        self.raw, self.packed, self.glyphs, self.widths, self.info = _load(path)
        self.used: dict[int, tuple[str, float]] = {}  # glyph id -> (character, width); bounded by the font

    def width(self, text: str) -> float:
        """Width of `text` at 1 pt."""
        widths = self.widths
        return sum(widths.get(ord(c), 500.0) for c in text) / 1000.0

    def encode(self, text: str) -> bytes:
        """`text` as a hex string of glyph ids; unknown characters use glyph 0."""
        ids = []
        for char in text:
            gid = self.glyphs.get(ord(char), 0)
            if gid not in self.used:
                self.used[gid] = (char, self.widths.get(ord(char), 500.0))
            ids.append(gid)
        return b"<" + "".join(f"{gid:04X}" for gid in ids).encode() + b">"

    def head(self) -> bytes | None:
        """The Type0 dictionary is written at the end, when the glyphs used are known."""
        return None

    def tail(self, first: int) -> tuple[bytes, list[bytes]]:
        """Type0 dictionary, and the objects numbered from `first` that it refers to."""
        name = self.info["name"] if isinstance(self.info["name"], bytes) else str(self.info["name"]).encode()
        descendant, descriptor, program, to_unicode = first, first + 1, first + 2, first + 3
        widths = b" ".join(b"%d [%.1f]" % (gid, width) for gid, (_, width) in sorted(self.used.items()))
        bbox = b" ".join(b"%d" % v for v in self.info["bbox"])
        cid_font = (
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) "
            b"/Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 500 /W [%s] >>"
            % (name, descriptor, widths)
        )
        font_descriptor = (
            b"<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [%s] /ItalicAngle %d /Ascent %d "
            b"/Descent %d /CapHeight %d /StemV %d /FontFile2 %d 0 R >>"
            % (name, self.info["flags"], bbox, self.info["italic"], self.info["ascent"], self.info["descent"],
               self.info["cap"], self.info["stem"], program)
        )
        font_file = (b"<< /Length %d /Length1 %d /Filter /FlateDecode >>\nstream\n" % (len(self.packed), len(self.raw))
                     + self.packed + b"\nendstream")
        cmap = self._to_unicode()
        to_unicode_stream = b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream"
        type0 = (b"<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] "
                 b"/ToUnicode %d 0 R >>" % (name, descendant, to_unicode))
        return type0, [cid_font, font_descriptor, font_file, to_unicode_stream]

    def _to_unicode(self) -> bytes:
        # Lets text extraction and search map glyph ids back to characters.
        entries = [(gid, char) for gid, (char, _) in sorted(self.used.items()) if gid]
        blocks = []
        for start in range(0, len(entries), 100):
            chunk = entries[start : start + 100]
            lines = "".join(f"<{gid:04X}> <{char.encode('utf-16-be').hex().upper()}>\n" for gid, char in chunk)
            blocks.append(f"{len(chunk)} beginbfchar\n{lines}endbfchar\n")
        return (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + "".join(blocks)
            + "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
        ).encode()


def default_font() -> Helvetica | EmbeddedTrueType:
    """DejaVu Sans when the system has it (Cyrillic and more), else Helvetica."""
    for path in DEJAVU_PATHS:
        if path.is_file():
            return EmbeddedTrueType(path)
    return Helvetica()

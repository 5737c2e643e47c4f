"""Barcode format names and AIM symbology identifiers shared by the decoders and the parser."""

from __future__ import annotations

# zxing-cpp and zbar spell formats differently; callers see one canonical name.
_FORMAT_ALIASES = {
    "CODE128": "Code128",
    "CODE39": "Code39",
    "Code39Std": "Code39",
    "Code39Ext": "Code39",
    "CODE93": "Code93",
    "CODABAR": "Codabar",
    "EAN13": "EAN13",
    "ISBN13": "EAN13",
    "ISBN": "EAN13",
    "EAN8": "EAN8",
    "UPCA": "UPCA",
    "UPCE": "UPCE",
    "ISBN10": "ISBN10",
    "I25": "ITF",
    "ITF14": "ITF",
    "DATABAR": "DataBar",
    "DataBarOmni": "DataBar",
    "DATABAR_EXP": "DataBarExp",
    "DataBarExpanded": "DataBarExp",
    "DataBarLimited": "DataBarLtd",
    "QRCODE": "QRCode",
    "QRCodeModel1": "QRCode",
    "QRCodeModel2": "QRCode",
    "AztecCode": "Aztec",
    "PDF417": "PDF417",
    "CompactPDF417": "PDF417",
}

LINEAR_FORMATS = frozenset(
    {
        "Code128",
        "Code39",
        "Code93",
        "Codabar",
        "EAN13",
        "EAN8",
        "UPCA",
        "UPCE",
        "ISBN10",
        "ITF",
        "DataBar",
        "DataBarExp",
        "DataBarLtd",
    }
)

# AIM identifiers that announce GS1 element-string content.
GS1_IDENTIFIERS = frozenset({"]C1", "]d2", "]Q3", "]e0", "]J1", "]z1"})
GS1_IDENTIFIER_BY_FORMAT = {
    "Code128": "]C1",
    "DataMatrix": "]d2",
    "QRCode": "]Q3",
    "DataBar": "]e0",
    "DataBarExp": "]e0",
    "DataBarLtd": "]e0",
    "Aztec": "]z1",
}

# Symbology identifier prefix (the letter after "]") -> symbology name, per ISO/IEC 15424.
SYMBOLOGY_NAMES = {
    "A": "Code39",
    "C": "Code128",
    "d": "DataMatrix",
    "E": "EAN/UPC",
    "e": "DataBar",
    "F": "Codabar",
    "G": "Code93",
    "I": "ITF",
    "J": "MaxiCode",
    "L": "PDF417",
    "Q": "QRCode",
    "z": "Aztec",
    "X": "Other",
}


def format_name(name: str) -> str:
    """Canonical format name for a zxing-cpp or zbar format name."""
    return _FORMAT_ALIASES.get(name, name)


def is_linear(format_name: str) -> bool:
    """True for 1D formats (no error correction, so a single read can be wrong)."""
    return format_name in LINEAR_FORMATS


def guess_identifier(format_name: str, text: str) -> str | None:
    """AIM identifier for a zbar result, which does not report one (GS1 when FNC1 leads)."""
    gs1 = text.startswith("\x1d")
    return {
        "Code128": "]C1" if gs1 else "]C0",
        "QRCode": "]Q3" if gs1 else "]Q1",
        "DataMatrix": "]d2" if gs1 else "]d1",
        "EAN13": "]E0",
        "UPCA": "]E0",
        "UPCE": "]E0",
        "EAN8": "]E4",
        "Code39": "]A0",
        "Code93": "]G0",
        "Codabar": "]F0",
        "ITF": "]I0",
        "DataBar": "]e0",
        "DataBarExp": "]e0",
        "PDF417": "]L2",
    }.get(format_name)

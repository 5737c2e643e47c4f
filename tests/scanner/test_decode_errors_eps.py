"""PostScript uploads are refused before any interpreter sees them."""

import pytest

from serialtrace.scanner import ImageError, decode_image

EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke\nshowpage\n"


def test_eps_is_not_an_image():
    with pytest.raises(ImageError, match="not an image"):
        decode_image(EPS)

"""Preprocessing retries for still images that gave nothing on the first reading."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

# Images smaller than this on the short side are upscaled: modules under ~2 px defeat the
# binarisers, and upscaling a tiny image is cheap.
_SMALL_SIDE = 400
# Skew angle (degrees) for the rotation retries: 1D readers scan rows and give up on skewed
# bars beyond roughly ten degrees; zxing itself already tries the 90 degree turns.
_SKEW = 15.0
# The orientation estimate works on a copy this size on the long side (about 1 ms): bars
# and modules of a symbol the readers could read stay several pixels wide there.
_ORIENT_SIDE = 240
# A symbol already within this many degrees of upright (or of a quarter turn, which zbar
# and zxing's rotation pass cover) is not turned: the readers cope with a small skew.
_MIN_SKEW = 5.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A preprocessed image plus the 2x3 affine map from its pixels back to the original."""

    image: np.ndarray
    to_original: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class RetryStep:
    """One preprocessing step and the decoder that reads its output."""

    name: str
    decoder: str  # "zxing", "zxing-global" (global histogram binariser) or "pyzbar"
    apply: Callable[[np.ndarray], Candidate | None]


def _dominant_orientation(gray: np.ndarray) -> float | None:
    """Gradient direction (degrees) in the largest region of parallel edges.

    Classic barcode localisation: Scharr gradients, their structure tensor averaged over a
    small window, and the anisotropic part of it (high where edges are strong and share one
    direction: bars, and the module edges of a 2D symbol; low on text, texture and flat
    paper), thresholded and closed into regions. The largest region gives the angle.
    """
    h, w = gray.shape
    scale = min(1.0, _ORIENT_SIDE / max(h, w))
    # At least one pixel each way: a long thin strip would otherwise shrink to nothing.
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = gray if scale == 1.0 else cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    f = small.astype(np.float32)
    gx = cv2.Scharr(f, cv2.CV_32F, 1, 0)
    gy = cv2.Scharr(f, cv2.CV_32F, 0, 1)
    jxx = cv2.blur(gx * gx, (9, 9))
    jyy = cv2.blur(gy * gy, (9, 9))
    jxy = cv2.blur(gx * gy, (9, 9))
    diff = jxx - jyy
    score = cv2.sqrt(cv2.sqrt(diff * diff + 4 * jxy * jxy))
    threshold = max(float(score.mean() + 2 * score.std()), 0.3 * float(score.max()))
    mask = (score > threshold).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8), iterations=2)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count < 2:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[best, cv2.CC_STAT_AREA] < 0.005 * small.size:
        return None
    region = labels == best
    return 0.5 * float(np.degrees(np.arctan2(2 * float(jxy[region].sum()), float(diff[region].sum()))))


def _deskew(gray: np.ndarray) -> Candidate | None:
    # Turn the image so the bars of the strongest barcode-like region stand upright (its
    # gradients run along the rows the 1D readers scan). One step covers any angle. The turn
    # is about the image centre on a canvas of the same size, like the fixed turns: the
    # region found is often only part of the symbol, so centring on it would push the rest
    # out of view.
    angle = _dominant_orientation(gray)
    if angle is None:
        return None
    if abs(angle) < _MIN_SKEW or abs(abs(angle) - 90) < _MIN_SKEW:
        return None
    return _rotate(angle)(gray)


def _sharpen(gray: np.ndarray) -> Candidate:
    # Unsharp mask: restores edges of slightly defocused phone photos.
    blurred = cv2.GaussianBlur(gray, (0, 0), 3)
    return Candidate(cv2.addWeighted(gray, 2.0, blurred, -1.0, 0))


def _adaptive(gray: np.ndarray) -> Candidate:
    # Local threshold handles glare gradients and uneven lighting across the symbol.
    return Candidate(
        cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 5)
    )


def _rotate(angle: float) -> Callable[[np.ndarray], Candidate]:
    def apply(gray: np.ndarray) -> Candidate:
        h, w = gray.shape
        forward = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        rotated = cv2.warpAffine(gray, forward, (w, h), borderValue=255, flags=cv2.INTER_LINEAR)
        return Candidate(rotated, cv2.invertAffineTransform(forward))

    return apply


def _upscale(gray: np.ndarray) -> Candidate | None:
    h, w = gray.shape
    if min(h, w) >= _SMALL_SIDE:
        return None
    factor = 2.0 if min(h, w) >= _SMALL_SIDE / 4 else 4.0
    big = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    # Unsharp mask at the scale of one original pixel: small crops are usually also soft,
    # and cubic interpolation blurs edges a little more.
    blurred = cv2.GaussianBlur(big, (0, 0), factor)
    big = cv2.addWeighted(big, 2.0, blurred, -1.0, 0)
    return Candidate(big, np.array([[1 / factor, 0, 0], [0, 1 / factor, 0]]))


def _half(gray: np.ndarray) -> Candidate | None:
    h, w = gray.shape
    if min(h, w) < _SMALL_SIDE / 2:
        return None
    small = cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return Candidate(small, np.array([[w / (w // 2), 0, 0], [0, h / (h // 2), 0]]))


# Ordered by how many DEV photos each step read that no earlier reader (zxing, zbar) did:
# turning to the measured bar angle rescues skewed 1D labels at any angle, threshold and
# unsharp mask rescue glare and blur, upscaling with an unsharp mask rescues small soft
# crops, and zxing's global-histogram binariser on a half-size copy reads a designer QR whose
# picture defeats the local binariser. The fixed 15 degree turns remain for when the
# orientation estimate picks the wrong region. The decoder stops at the work budget, so the
# productive steps must come first.
RETRY_STEPS: tuple[RetryStep, ...] = (
    RetryStep("deskew", "zxing", _deskew),
    RetryStep("adaptive-threshold", "zxing", _adaptive),
    RetryStep("sharpen", "zxing", _sharpen),
    RetryStep("upscale", "zxing", _upscale),
    RetryStep("half-global", "zxing-global", _half),
    RetryStep("rotate-15", "zxing", _rotate(-_SKEW)),
    RetryStep("rotate+15", "zxing", _rotate(_SKEW)),
    RetryStep("sharpen", "pyzbar", _sharpen),
)


def map_points(
    points: Sequence[tuple[int, int]], candidate: Candidate
) -> list[tuple[int, int]]:
    """Map corner points found in a preprocessed image back to original image pixels."""
    if candidate.to_original is None:
        return list(points)
    m = candidate.to_original
    return [
        (int(round(m[0, 0] * x + m[0, 1] * y + m[0, 2])), int(round(m[1, 0] * x + m[1, 1] * y + m[1, 2])))
        for x, y in points
    ]

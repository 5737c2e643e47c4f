"""Preprocessing retries for still images that gave nothing on the first reading."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np

# Images smaller than this on the short side are upscaled: modules under ~2 px defeat the
# binarisers, and upscaling a tiny image is cheap.
_SMALL_SIDE = 400
# Skew angle (degrees) for the rotation retries: 1D readers scan rows and give up on skewed
# bars beyond roughly ten degrees; zxing itself already tries the 90 degree turns.
_SKEW = 15.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A preprocessed image plus the 2x3 affine map from its pixels back to the original."""

    image: np.ndarray
    to_original: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class RetryStep:
    """One preprocessing step and the decoder that reads its output."""

    name: str
    decoder: str  # "zxing" or "pyzbar"
    apply: Callable[[np.ndarray], Candidate | None]


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
    return Candidate(big, np.array([[1 / factor, 0, 0], [0, 1 / factor, 0]]))


# Ordered by how many DEV photos each step read that no earlier reader (zxing, zbar) did:
# the small turns rescue skewed 1D labels (both kept together, a skew has no preferred
# side), threshold and unsharp mask rescue glare and blur. The decoder stops at the work
# budget, so the productive steps must come first.
RETRY_STEPS: tuple[RetryStep, ...] = (
    RetryStep("rotate-15", "zxing", _rotate(-_SKEW)),
    RetryStep("rotate+15", "zxing", _rotate(_SKEW)),
    RetryStep("adaptive-threshold", "zxing", _adaptive),
    RetryStep("sharpen", "zxing", _sharpen),
    RetryStep("upscale", "zxing", _upscale),
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

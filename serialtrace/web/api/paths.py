"""The path parameters of the warranty routes: one model per kind of object named in a URL."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ClaimPath(BaseModel):
    """A claim in the URL."""

    id: int = Field(description="the claim's id")


class CasePath(BaseModel):
    """A unit case in the URL."""

    id: int = Field(description="the unit case's id")


class ProductPath(BaseModel):
    """A product in the URL."""

    sku: str = Field(description="the product's SKU or GTIN")


class DispositionPath(BaseModel):
    """A disposition in the URL."""

    id: int = Field(description="the disposition's id")


class AttachmentPath(BaseModel):
    """An attachment in the URL."""

    id: int = Field(description="the attachment's id")

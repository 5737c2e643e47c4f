"""Imports every table module so SQLModel.metadata is complete (Alembic and tests use this)."""

from sqlmodel import SQLModel

from .accounts import models as accounts_models  # noqa: F401
from .trace import models as trace_models  # noqa: F401
from .labelling import models as labelling_models  # noqa: F401
from .warranty import models as warranty_models  # noqa: F401
from .station import models as station_models  # noqa: F401

metadata = SQLModel.metadata

"""serialtrace: serial-number traceability and warranty service."""

__version__ = "0.1.0"

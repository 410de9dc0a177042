"""assay: governance for Python and ML dependencies."""

__version__ = "0.1.0"

__all__ = ["__version__"]

"""hotline: a platform for a 12345 government service hotline (接诉即办)."""

__version__ = "0.1.0"

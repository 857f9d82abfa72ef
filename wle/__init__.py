"""WLE Jury: run Wiki Loves Earth photo contests on Wikimedia Commons."""

__version__ = "0.1.0"

"""stackshift: take a sender domain from pending to verified."""

__version__ = "0.1.0"

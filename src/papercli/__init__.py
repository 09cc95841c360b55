"""papercli: a research-notes manager for the terminal."""

__version__ = "0.1.0"

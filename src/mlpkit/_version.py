"""The package version, in a module of its own: what writes files names it without importing the package."""

__version__ = "0.1.0"

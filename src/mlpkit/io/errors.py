"""The two errors of model files: the public one, and the internal one that carries a problem to ``load``."""

from __future__ import annotations


class ModelFileError(ValueError):
    """A model file that cannot be loaded: not an mlpkit (or FluCoMa) model, damaged,
    written by a newer mlpkit, or inconsistent. The message starts with the file's name."""


class Invalid(Exception):
    """A problem in the file's contents, found while reading it: the message says where, what was
    expected and what was found; ``load`` adds the file's name and raises a :class:`ModelFileError`."""

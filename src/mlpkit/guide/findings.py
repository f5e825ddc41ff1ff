"""What ``diagnose`` reports: findings, the fixes they suggest, and the model facts the fixes are computed from.

A check returns a ``Finding`` whose fixes are ``Fix``es: what to try, with the concrete
parameter changes (``vocabulary.Change``: a tenth of the current rate, twice the epochs).
The finding's ``suggestion`` is those fixes said in the vocabulary of the interface in use
(``learn_rate=0.001`` for the FluCoMa estimators, ``--set learning_rate_init=0.001`` on the
command line); a fix whose changes that interface cannot make is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .vocabulary import Change, Vocabulary

SEVERITIES = ("info", "warning", "error")


class Fix(NamedTuple):
    """What to try (``what``), with the parameter changes that do it (none: advice in words only)."""

    what: str
    changes: tuple = ()


@dataclass
class Finding:
    name: str  # e.g. 'overfitting'
    severity: str  # 'info', 'warning' or 'error'
    message: str  # what was seen, with the numbers
    suggestion: str = ""  # what to try, in the interface's words (``said``)
    fixes: list = field(default_factory=list, repr=False)

    def said(self, words: Vocabulary) -> Finding:
        """This finding with its ``suggestion`` in ``words``: each fix that can be made there."""
        parts = []
        for fix in self.fixes:
            if not fix.changes:
                parts.append(fix.what)
            elif text := words.join(*fix.changes):
                parts.append(f"{fix.what} ({text})")
        self.suggestion = "; ".join(parts)
        return self


class Subject(NamedTuple):
    """The facts about a fitted network that the checks and their fixes read."""

    learning_rate: float
    max_iter: int
    hidden: tuple
    alpha: float
    early_stopping: bool
    batch_size: object  # int or 'auto'
    activation: str
    words: Vocabulary
    inputs_scaled: bool | None = None  # what the rows given to diagnose show (None: none given)

    def scaling(self, scaler: str = "StandardScaler") -> list[Fix]:
        """Scaling the inputs, as a fix, unless the rows showed them scaled already."""
        return [] if self.inputs_scaled else [Fix("scale the inputs", (Change("scaler", scaler),))]

    def lr(self, factor: float) -> Change:
        return Change("learning_rate_init", float(f"{self.learning_rate * factor:.2g}"))

    def epochs(self, factor: float) -> Change:
        return Change("max_iter", int(self.max_iter * factor))

    def widths(self, factor: float) -> Change:
        return Change("hidden_layer_sizes", tuple(max(2, int(round(n * factor))) for n in self.hidden) or (16,))


def subject_of(network, words: Vocabulary, inputs_scaled: bool | None = None) -> Subject:
    return Subject(
        learning_rate=float(network.learning_rate_init),
        max_iter=int(network.max_iter),
        hidden=tuple(int(w.shape[1]) for w in network.coefs_[:-1]),
        alpha=float(network.alpha),
        early_stopping=bool(network.early_stopping),
        batch_size=network.batch_size,
        activation=str(network.activation),
        words=words,
        inputs_scaled=inputs_scaled,
    )


def lower_rate(s: Subject, why: str = "a smaller learning rate") -> Fix:
    return Fix(why, (s.lr(0.1),))


def fraction(values) -> str:
    return ", ".join(f"{v:.0%}" for v in np.asarray(values, dtype=float))

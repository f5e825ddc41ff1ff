"""``lr_find``: a learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural Networks").

Train a copy of the model for ``steps`` mini-batches while the learning rate
grows exponentially from ``start`` to ``end``, and record each batch's loss. At
rates too small the loss hardly moves; at good rates it falls fast; at rates
too large it explodes. As fastai does, the losses are smoothed by an
exponential moving average with bias correction (beta = 0.98) and the sweep
stops once the smoothed loss exceeds 4 times the best seen, or is no longer
finite.

The suggestion is the rate at the **steepest descent** of the smoothed loss:
the minimum of d(loss) / d(log lr), looked for before the loss reaches its
minimum (fastai's ``steep``). ``minimum_tenth``, one tenth of the rate at the
lowest smoothed loss (fastai's ``minimum``), is reported beside it. On digits
with Adam both land within a factor of 10 of the best rate of a grid
(``tests/test_guide.py``); the steepest descent is the rate at which training
makes the fastest progress, which is what a fixed learning rate should aim for.

The sweep runs in the one trainer that ``fit`` uses (``trainer.run``), one
mini-batch per call, on a copy of the model whose schedule is ``exponential``
with a growth factor: ``learning_rate_init=start`` and the rate times
``(end / start) ** (1 / (steps - 1))`` each step. The training state carries
from step to step (the optimiser's moments, the schedule's position), so the
sweep takes ``fit``'s own steps. Every setting is a traced value: one compiled
program per network structure, solver, batch size and row bucket serves every
sweep, whatever its rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from .. import _compilation_cache, config, trainer, training_data
from ..optim import has_learning_rate, make_optimizer, optimizer_params
from ..state import new_state
from . import _estimator
from ._report import plain

#: fastai's smoothing of the recorded losses.
SMOOTHING = 0.98
#: Stop once the smoothed loss exceeds this multiple of the lowest smoothed loss (fastai's).
DIVERGE_FACTOR = 4.0


@dataclass
class LRFinderResult:
    """The sweep: ``lrs[i]`` is the rate of step i, ``raw_losses[i]`` its batch loss (before the step)."""

    lrs: np.ndarray
    losses: np.ndarray  # smoothed (EMA, bias-corrected)
    raw_losses: np.ndarray
    suggestion: float  # the steepest descent of the smoothed loss (see the module docstring)
    steepest: float | None  # None when the loss never fell
    minimum_tenth: float  # one tenth of the rate at the lowest smoothed loss
    diverged: bool  # the sweep stopped early: the loss exploded

    def __str__(self) -> str:
        how = "steepest descent of the loss" if self.steepest is not None else "a tenth of the minimum's rate"
        end = "stopped when the loss exploded" if self.diverged else "ran to the end"
        return (
            f"lr_find: {len(self.lrs)} steps from {self.lrs[0]:.2g} to {self.lrs[-1]:.2g} ({end});"
            f" suggested learning_rate_init={self.suggestion:.2g} ({how});"
            f" a tenth of the minimum's rate: {self.minimum_tenth:.2g}"
        )

    def to_dict(self) -> dict:
        return plain(self)

    def plot(self, ax=None):
        """Loss against learning rate (log x), the suggestion marked; returns the matplotlib figure."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:  # pragma: no cover - matplotlib is a dependency
            raise ImportError("LRFinderResult.plot needs matplotlib: pip install matplotlib") from error
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
        else:
            fig = ax.figure
        ax.plot(self.lrs, self.raw_losses, color="C0", alpha=0.3, linewidth=1, label="batch loss")
        ax.plot(self.lrs, self.losses, color="C0", label="smoothed loss")
        at = int(np.argmin(np.abs(np.log(self.lrs) - np.log(self.suggestion))))
        ax.axvline(self.suggestion, color="C3", linestyle="--", linewidth=1)
        ax.plot(
            [self.suggestion], [self.losses[at]], "o", color="C3", label=f"suggestion {self.suggestion:.2g}"
        )
        smoothed, raw = (v[np.isfinite(v)] for v in (self.losses, self.raw_losses))
        if smoothed.size:  # limits from the falling part: the exploding end would squash it
            low, high = min(smoothed.min(), raw.min(initial=np.inf)), smoothed[0]
            ax.set_ylim(low - 0.1 * (high - low), high + 0.5 * (high - low) + 1e-12)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.set_title("learning-rate range test")
        from ..plots import round_ticks

        round_ticks(ax)  # 1, 2, 5 x 10^n on the log axis, which says it is one
        ax.legend()
        return fig


# ------------------------------------------------------------------- suggestions
def steepest_descent(lrs, losses) -> float | None:
    """Rate where the smoothed loss falls fastest per decade: argmin of d loss / d log(lr),
    among the steps up to the lowest loss. None when the loss never fell."""
    lowest = int(np.nanargmin(losses))
    if lowest < 2:
        return None
    slope = np.gradient(losses[: lowest + 1], np.log10(lrs[: lowest + 1]))
    return float(lrs[int(np.argmin(slope))])


def minimum_tenth(lrs, losses) -> float:
    """One tenth of the rate at the lowest smoothed loss (the loss is already rising there)."""
    return float(lrs[int(np.nanargmin(losses))] / 10)


# ---------------------------------------------------------------- the sweep itself
def batch_indices(random_state, n_rows: int, batch_rows: int, steps: int) -> np.ndarray:
    """(steps, batch_rows) row indices: shuffled passes over the rows, one after another, wrapping around."""
    passes = -(-steps * batch_rows // n_rows)
    order = np.concatenate([random_state.permutation(n_rows) for _ in range(passes)])
    return order[: steps * batch_rows].reshape(steps, batch_rows).astype(np.int32)


def check_sweep(start, end, steps):
    if not (0 < start < end):
        raise ValueError(
            f"lr_find sweeps from start to end with 0 < start < end; got start={start!r}, end={end!r}."
        )
    if int(steps) != steps or steps < 3:
        raise ValueError(f"steps must be an integer of at least 3 (100 is usual); got {steps!r}.")


def check_solver(model):
    if model.solver == "lbfgs":
        raise ValueError(
            "lr_find is for the stochastic solvers ('adam', 'sgd', ...); solver='lbfgs' picks its own step"
            " sizes by line search and has no learning rate to choose."
        )


def lr_find(model, X, y, start=1e-7, end=10, steps=100, *, sample_weight=None) -> LRFinderResult:
    """Learning-rate range test on a copy of ``model``; the model itself is left unchanged.

    Parameters
    ----------
    model : MLPClassifier or MLPRegressor, fitted or not
        Not fitted: the sweep starts from the initial weights ``fit`` would draw
        (same ``random_state``). Fitted: it starts from the fitted weights.
        Either way it uses the model's solver, batch size, penalties and dtype,
        and a fresh optimiser state.
    X, y : the training data (y: labels for a classifier, targets for a regressor)
    start, end : float
        First and last learning rate; the rate grows exponentially between them.
    steps : int
        Mini-batches in the sweep (shuffled passes over the data, wrapping around).
    sample_weight : array-like of shape (n_rows,), optional

    Returns
    -------
    LRFinderResult with ``lrs``, ``losses`` (smoothed), ``raw_losses``,
    ``suggestion`` and ``.plot()``.

    Example
    -------
    >>> result = lr_find(MLPClassifier(hidden_layer_sizes=(32,)), X, y)   # doctest: +SKIP
    >>> model.set_params(learning_rate_init=result.suggestion)             # doctest: +SKIP
    """
    check_sweep(start, end, steps)
    check_solver(model)
    prepared = _estimator.prepare(model, X, y, sample_weight)
    steps = int(steps)
    work = prepared.model.set_params(
        learning_rate="exponential", learning_rate_init=start, lr_decay=(end / start) ** (1 / (steps - 1)),
        lr_decay_epochs=1, shuffle=False, early_stopping=False, tol=0.0, n_iter_no_change=np.inf,
    )  # fmt: skip
    dtype, n_rows = prepared.X.dtype, prepared.X.shape[0]
    rows = min(config.batch_rows(work.batch_size, n_rows), n_rows)
    program = config.program(work, prepared.architecture, rows, score=work._score_name())
    params, stats = _estimator.params_and_stats(work)
    settings = optimizer_params(program.solver, vars(work))
    values = {name: np.asarray(v, dtype) for name, v in settings.items()}
    if not has_learning_rate(jax.eval_shape(make_optimizer(program.solver, values).init, params)):
        raise ValueError(
            "lr_find sets the learning rate in the optimiser's state; this custom optax transformation has"
            " none. Build it with optax.inject_hyperparams(optax.adam)(learning_rate=...), or use a named solver."
        )
    batches = batch_indices(prepared.random_state, n_rows, rows, steps)
    seed = prepared.random_state.randint(np.iinfo(np.int32).max)
    _compilation_cache.enable()  # (as the first fit would)
    with _estimator.x64(dtype):
        state = trainer.start_state(new_state(params, stats, dtype), program.solver, settings, None,
                                    new_cycle=False, seed=lambda: seed, dtype=dtype)  # fmt: skip
        lrs, raw, smoothed, exploded = _sweep(program, state, prepared, batches)
    if not np.isfinite(smoothed[0]):
        raise ValueError(
            f"the loss of the first mini-batch is {raw[0]}, not a finite number, before any step: check X and y"
            " for NaN or huge values (mlpkit.guide.advise(X, y) checks the scaling)."
        )
    steep = steepest_descent(lrs, smoothed)
    tenth = minimum_tenth(lrs, smoothed)
    return LRFinderResult(
        lrs=lrs,
        losses=smoothed,
        raw_losses=raw,
        suggestion=steep if steep is not None else tenth,
        steepest=steep,
        minimum_tenth=tenth,
        diverged=exploded,
    )


def _sweep(program, state, prepared, batches):
    """One trainer call per mini-batch (an epoch of one step) until the batches run out or the loss
    explodes; returns the rates, the raw and smoothed losses, and whether it exploded."""
    hyper = config.hyper(prepared.model, prepared.X.dtype, len(prepared.model.coefs_) - 1)
    lrs, raw, smoothed = [], [], []
    average, best = 0.0, np.inf
    for i, rows in enumerate(batches):
        data = training_data.device_data(prepared.X[rows], prepared.Y[rows], prepared.weight[rows])
        outcome = trainer.run(program, state, data, hyper, max_iter=1)
        state = outcome.state
        loss = outcome.history["loss"][0]  # of this batch, before its step
        average = SMOOTHING * average + (1 - SMOOTHING) * loss
        lrs.append(outcome.history["lr"][0])
        raw.append(loss)
        smoothed.append(average / (1 - SMOOTHING ** (i + 1)))  # bias correction: early steps are not pulled to 0
        best = min(best, smoothed[-1])
        if outcome.diverged or not np.isfinite(smoothed[-1]) or smoothed[-1] > DIVERGE_FACTOR * best:
            return np.array(lrs), np.array(raw), np.array(smoothed), True
    return np.array(lrs), np.array(raw), np.array(smoothed), False

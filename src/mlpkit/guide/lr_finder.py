"""``lr_find``: a learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural Networks").

Train a copy of the model for ``steps`` mini-batches while the learning rate
grows exponentially from ``start`` to ``end``, and record each batch's loss. At
rates too small the loss hardly moves; at good rates it falls fast; at rates
too large it explodes. As fastai does, the sweep stops once an exponential
moving average of the batch losses (beta = 0.98, bias-corrected) exceeds 4 times
its lowest value, or is no longer finite.

The suggestion is read from the batch losses *after* the sweep, so it can use a
smoothing that does not lag: a running median over ``SMOOTHING_SHARE`` of the
steps (a few odd batches do not move it) followed by a Gaussian of the same
width, both centred on each step. (The moving average that decides when to stop
trails the batch losses by about 1 / (1 - beta) = 50 steps: half a sweep of 100,
so its minimum sits where training has already exploded.) The first
``WARMUP_SHARE`` of the steps (at least 3) are left out: the first batches'
losses come from the untrained network and differ from the rest for reasons
that have nothing to do with the rate.

``suggestion`` is the rate of the **steepest descent** of the smoothed loss,
``argmin d(loss) / d(log10 lr)`` on the descending part before the smoothed minimum
(from where the loss has made a tenth of its fall: before that it is flat and batch
noise can look steep; fastai's ``steep``, on the unlagged curve): the rate at which training makes
the fastest progress. ``minimum_tenth``, a tenth of the rate at the smoothed
minimum (fastai's ``minimum``), is reported beside it. When the curve gives no
clear answer (the smoothed loss fell by less than its own noise, or by less
than 2 % of where it started), ``clear`` is False, ``reason`` says why, and the
suggestion is the model's own ``learning_rate_init``, unchanged.
``bench/guidance.py`` measures how the suggestion trains against the best rate
of a 9-point grid (``bench/README.md``).

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
from scipy.ndimage import gaussian_filter1d, median_filter

from .. import _compilation_cache, config, trainer, training_data
from ..optim import has_learning_rate, make_optimizer, optimizer_params
from ..state import new_state
from . import _estimator
from ._report import plain

#: fastai's moving average of the batch losses, which decides when the sweep stops ...
SMOOTHING = 0.98
#: ... once it exceeds this multiple of its lowest value (fastai's).
DIVERGE_FACTOR = 4.0
#: Width of the centred smoothing the suggestion reads, as a share of the steps (at least 3 steps).
SMOOTHING_SHARE = 0.05
#: Steps at the start left out of the suggestion, as a share of the steps (at least ``MIN_WARMUP``).
WARMUP_SHARE = 0.05
MIN_WARMUP = 3
#: The descent the suggestion is read on starts where the loss has made this share of its fall ...
DESCENT_START = 0.1
#: ... from its level at the start: the median over this share of the steps after the warm-up.
START_SHARE = 0.1
#: No clear answer when the smoothed loss fell by less than this share of its starting value ...
LEAST_FALL = 0.02
#: ... or by less than this many times the batch losses' noise around the smoothed curve.
NOISE_MULTIPLE = 3.0


@dataclass
class LRFinderResult:
    """The sweep: ``lrs[i]`` is the rate of step i, ``raw_losses[i]`` its batch loss (before the step)."""

    lrs: np.ndarray
    losses: np.ndarray  # the centred smoothing of raw_losses that the suggestion reads
    raw_losses: np.ndarray
    suggestion: float  # the steepest descent; the model's own rate when the curve is not clear
    steepest: float | None  # None when the loss never fell after the warm-up
    minimum_tenth: float  # one tenth of the rate at the lowest smoothed loss
    diverged: bool  # the sweep stopped early: the loss exploded
    clear: bool = True  # False: the curve gives no clear answer (``reason`` says why)
    reason: str = ""  # how the suggestion was found, or why there is none
    warmup: int = 0  # steps left out at the start
    lowest: int = 0  # step of the lowest smoothed loss

    def __str__(self) -> str:
        end = "stopped when the loss exploded" if self.diverged else "ran to the end"
        sweep = f"lr_find: {len(self.lrs)} steps from {self.lrs[0]:.2g} to {self.lrs[-1]:.2g} ({end})"
        if not self.clear:
            return (
                f"{sweep}; no clear answer: {self.reason}; keeping learning_rate_init={self.suggestion:.2g}"
            )
        return (
            f"{sweep}; suggested learning_rate_init={self.suggestion:.2g} ({self.reason});"
            f" a tenth of the minimum's rate: {self.minimum_tenth:.2g}"
        )

    def to_dict(self) -> dict:
        return plain(self)

    def plot(self, ax=None):
        """Loss against learning rate (log x): the batch losses, the smoothed curve the suggestion reads,
        the warm-up left out, the minimum, and the suggestion on the curve. Returns the figure."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:  # pragma: no cover - matplotlib is a dependency
            raise ImportError("LRFinderResult.plot needs matplotlib: pip install matplotlib") from error
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
        else:
            fig = ax.figure
        ax.plot(self.lrs, self.raw_losses, color="C0", alpha=0.3, linewidth=1, label="batch loss")
        ax.plot(self.lrs, self.losses, color="C0", label="smoothed loss (centred)")
        if self.warmup:
            ax.axvspan(self.lrs[0], self.lrs[self.warmup], color="0.85", alpha=0.6, label="warm-up (left out)")
        ax.plot([self.lrs[self.lowest]], [self.losses[self.lowest]], "x", color="0.3", markersize=8,
                label=f"lowest smoothed loss at {self.lrs[self.lowest]:.2g}")  # fmt: skip
        at = int(np.argmin(np.abs(np.log(self.lrs) - np.log(self.suggestion))))
        what = "steepest descent" if self.clear else "no clear answer: the model's rate"
        ax.axvline(self.suggestion, color="C3", linestyle="--", linewidth=1)
        ax.plot([self.suggestion], [self.losses[at]], "o", color="C3", label=f"{what}: {self.suggestion:.2g}")
        finite = self.losses[np.isfinite(self.losses)]
        if finite.size:  # limits from the falling part: the exploding end would squash it
            falling = finite[: self.lowest + 1]
            low, high = falling.min(), falling[self.warmup :].max(initial=falling[0])
            spread = max(high - low, 1e-12)
            ax.set_ylim(low - 0.2 * spread, high + 0.5 * spread)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.set_title("learning-rate range test")
        from ..plots import round_ticks

        round_ticks(ax)  # 1, 2, 5 x 10^n on the log axis, which says it is one
        ax.legend(fontsize="small")
        return fig


# ------------------------------------------------------------------- suggestions
def centred_smoothing(raw) -> np.ndarray:
    """The batch losses smoothed without lag: a running median over ``SMOOTHING_SHARE`` of the steps
    (odd batches do not move it), then a Gaussian of sigma half that window, both centred on each step
    (edges: the nearest value repeated). Non-finite losses (the explosion) count as the largest finite one."""
    raw = np.asarray(raw, dtype=float)
    if raw.size == 0:
        return raw
    finite = raw[np.isfinite(raw)]
    values = np.where(np.isfinite(raw), raw, finite.max() if finite.size else 0.0)
    window = max(3, int(round(SMOOTHING_SHARE * len(raw))) | 1)  # odd, so it centres
    return gaussian_filter1d(median_filter(values, size=window, mode="nearest"), sigma=window / 2, mode="nearest")


def warmup_steps(n_steps: int) -> int:
    """Steps left out at the start: ``WARMUP_SHARE`` of them, at least ``MIN_WARMUP``, leaving 3 to read."""
    return max(0, min(max(MIN_WARMUP, int(WARMUP_SHARE * n_steps)), n_steps - 3))


def start_level(losses, skip: int) -> float:
    """Where the smoothed loss starts: its median over ``START_SHARE`` of the steps after the warm-up (at
    least 3); a median, so one noisy batch there does not set it."""
    width = max(3, int(START_SHARE * len(losses)))
    return float(np.median(losses[skip : skip + width]))


def descent_start(losses, skip: int, lowest: int) -> int:
    """First step of the final descent: the last step before the minimum where the smoothed loss is still
    above its start level less ``DESCENT_START`` of the fall from there (``start_level``). Before it the loss
    is flat, and batch-to-batch noise there can look steeper than the real descent."""
    start = start_level(losses, skip)
    level = start - DESCENT_START * (start - float(losses[lowest]))
    above = np.flatnonzero(losses[skip : lowest + 1] >= level)
    return skip + int(above[-1]) if above.size else skip


def steepest_descent(lrs, losses, skip: int = 0) -> float | None:
    """Rate where the smoothed loss falls fastest per decade: argmin of d loss / d log10(lr), on the final
    descent (``descent_start``) up to the lowest loss. None when the loss never fell after ``skip``."""
    lowest = skip + int(np.argmin(losses[skip:]))
    start = descent_start(losses, skip, lowest)
    if lowest - start < 2:
        return None if lowest - skip < 2 else float(lrs[start])
    slope = np.gradient(losses[start : lowest + 1], np.log10(lrs[start : lowest + 1]))
    return float(lrs[start + int(np.argmin(slope))])


def minimum_tenth(lrs, losses, skip: int = 0) -> float:
    """One tenth of the rate at the lowest smoothed loss after ``skip`` (the loss is already rising there)."""
    return float(lrs[skip + int(np.argmin(losses[skip:]))] / 10)


def far_off_start(smoothed, skip: int, chance: float | None) -> str | None:
    """A classifier whose loss after the warm-up is above ``DIVERGE_FACTOR`` times that of guessing
    starts far off (typically: inputs in the hundreds or thousands); what the curve shows then is the
    recovery from that start, not the rate that trains well."""
    if chance is None or smoothed[skip] <= DIVERGE_FACTOR * chance:
        return None
    return (
        f"the loss at the start, {smoothed[skip]:.3g}, is {smoothed[skip] / chance:.0f} times that of guessing"
        f" ({chance:.3g}): the network starts far off, usually because the inputs are not scaled; scale them"
        " (mlpkit.guide.advise(X, y) says how) and run the range test again"
    )


def unclear_because(raw, smoothed, skip: int) -> str | None:
    """Why the curve gives no clear answer, or None: the smoothed loss must fall from its start level
    (``start_level``) to its lowest by 2 % of that level and by 3 times the batch noise (the median
    absolute difference of the batch losses from the smoothed curve, before the minimum)."""
    lowest = skip + int(np.argmin(smoothed[skip:]))
    top = start_level(smoothed, skip)
    fall = top - float(smoothed[lowest])
    before = slice(skip, lowest + 1)
    noise = float(np.median(np.abs(np.asarray(raw)[before] - smoothed[before])))
    if fall <= LEAST_FALL * abs(top):
        return f"the smoothed loss fell by only {fall:.2g} from {top:.3g} over the whole sweep"
    if fall <= NOISE_MULTIPLE * noise:
        return (
            f"the smoothed loss fell by {fall:.2g}, within {NOISE_MULTIPLE:g} times the batch losses' noise"
            f" ({noise:.2g}); more rows per batch or more steps give a steadier curve"
        )
    return None


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
    LRFinderResult with ``lrs``, ``raw_losses``, ``losses`` (their centred
    smoothing), ``suggestion``, ``clear`` and ``reason`` (how it was found, or
    why the curve gives no clear answer), and ``.plot()``.

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
        lrs, raw, ema, exploded = _sweep(program, state, prepared, batches)
    if not np.isfinite(ema[0]):
        raise ValueError(
            f"the loss of the first mini-batch is {raw[0]}, not a finite number, before any step: check X and y"
            " for NaN or huge values (mlpkit.guide.advise(X, y) checks the scaling)."
        )
    chance = _estimator.chance_loss(prepared.model)
    return read_sweep(lrs, raw, exploded, float(model.learning_rate_init), chance)


def read_sweep(lrs, raw, diverged: bool, own_rate: float, chance: float | None = None) -> LRFinderResult:
    """The suggestion from a sweep's rates and batch losses (the module docstring has the rules);
    ``own_rate`` is kept when the curve gives no clear answer; ``chance``: a classifier's loss of
    guessing (``far_off_start``)."""
    lrs, raw = np.asarray(lrs), np.asarray(raw)
    skip = warmup_steps(len(raw))
    # (smoothed apart, so the first batches' odd losses do not leak into the part that is read)
    smoothed = np.concatenate([centred_smoothing(raw[:skip]), centred_smoothing(raw[skip:])])
    lowest = skip + int(np.argmin(smoothed[skip:]))
    steep = steepest_descent(lrs, smoothed, skip)
    tenth = minimum_tenth(lrs, smoothed, skip)
    unclear = far_off_start(smoothed, skip, chance)
    if unclear is None and steep is None:
        unclear = "the smoothed loss did not fall after the warm-up: it only rose (lower start)"
    if unclear is None:
        unclear = unclear_because(raw, smoothed, skip)
    if unclear is None:
        reason = "steepest descent of the smoothed loss"
        if lowest >= len(raw) - 1 - skip and not diverged:  # (as close to the end as the warm-up to the start)
            reason += f"; the loss still fell at the end of the sweep ({lrs[-1]:.2g}): a larger end may show more"
    result = dict(lrs=lrs, losses=smoothed, raw_losses=raw, steepest=steep, minimum_tenth=tenth,
                  diverged=diverged, warmup=skip, lowest=lowest)  # fmt: skip
    if unclear is not None:
        return LRFinderResult(suggestion=own_rate, clear=False, reason=unclear, **result)
    return LRFinderResult(suggestion=steep, clear=True, reason=reason, **result)


def _sweep(program, state, prepared, batches):
    """One trainer call per mini-batch (an epoch of one step) until the batches run out or the loss
    explodes; returns the rates, the batch losses, their moving average, and whether it exploded."""
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

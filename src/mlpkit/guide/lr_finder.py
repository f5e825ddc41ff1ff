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

The whole sweep is one compiled program: a ``jax.lax.scan`` over the batches
that sets each step's learning rate into the optax state
(``optax.inject_hyperparams``) and takes ``fit``'s own step (``engine``'s
``batch_objective``, ``transform_gradients``, ``optimizer_step``). It is traced
once per network structure, solver, row bucket, batch size and number of
steps; calling it again with new rates, data or hyper-parameters reuses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .. import _compilation_cache, engine
from ..optim import has_learning_rate, make_optimizer, optimizer_params, solver_spec
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
#: Number of times the sweep has been traced (compiled); tests read it to check that it is reused.
traces = 0


def sweep(
    program: engine.Program,
    params,
    stats,
    optimizer_values,
    X,
    Y,
    weight,
    batches,
    lrs,
    key,
    hyper,
    smoothing,
    diverge_factor,
):
    """Train on ``batches`` (steps, batch rows) of row indices, step i at rate ``lrs[i]``.

    Returns ``(raw, smoothed, ran)`` per step, and whether the loss exploded;
    steps after the stop have ``ran = False`` and NaN losses.
    """
    global traces
    traces += 1  # runs only while JAX traces this function
    opt_state = make_optimizer(program.solver, optimizer_values).init(params)
    loss_and_grad = jax.value_and_grad(engine.batch_objective, has_aux=True)
    rows = jnp.ones(batches.shape[1], X.dtype)  # every batch is full: no padding rows
    nan = jnp.asarray(jnp.nan, X.dtype)

    def train(carry, step):
        params, stats, opt_state, average, best, _ = carry
        i, lr, idx = step
        (_, (loss, stats)), grads = loss_and_grad(
            params, stats, X[idx], Y[idx], weight[idx], rows, jax.random.fold_in(key, i), program, hyper
        )
        grads = engine.transform_gradients(grads, program, hyper)
        opt_state = opt_state._replace(hyperparams={**opt_state.hyperparams, "learning_rate": lr})
        params, opt_state = engine.optimizer_step(program, hyper, params, grads, opt_state, 0.0, i)
        average = smoothing * average + (1 - smoothing) * loss
        smoothed = average / (1 - smoothing ** (i + 1))  # bias correction: early steps are not pulled to 0
        best = jnp.minimum(best, smoothed)
        stop = ~jnp.isfinite(smoothed) | (smoothed > diverge_factor * best)
        return (params, stats, opt_state, average, best, stop), (loss, smoothed, jnp.asarray(True))

    def skip(carry, step):
        return carry, (nan, nan, jnp.asarray(False))

    def step(carry, inputs):
        return jax.lax.cond(carry[-1], skip, train, carry, inputs)

    zero = jnp.zeros([], X.dtype)
    carry = (params, stats, opt_state, zero, jnp.asarray(jnp.inf, X.dtype), jnp.zeros([], bool))
    steps = jnp.arange(lrs.shape[0])
    carry, (raw, smoothed, ran) = jax.lax.scan(step, carry, (steps, lrs, batches))
    return raw, smoothed, ran, carry[-1]


sweep_compiled = jax.jit(sweep, static_argnames="program")


def batch_indices(random_state, n_rows: int, batch_rows: int, steps: int) -> np.ndarray:
    """(steps, batch_rows) row indices: shuffled passes over the rows, one after another, wrapping around."""
    passes = -(-steps * batch_rows // n_rows)
    order = np.concatenate([random_state.permutation(n_rows) for _ in range(passes)])
    return order[: steps * batch_rows].reshape(steps, batch_rows).astype(np.int32)


def batch_rows(model, n_rows: int) -> int:
    """The model's mini-batch size for ``n_rows`` rows (``'auto'`` is min(200, n_rows), as ``fit``)."""
    return min(200 if model.batch_size == "auto" else int(model.batch_size), n_rows)


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
    work = prepared.model
    spec = solver_spec(work.solver, vars(work))
    program = _estimator.loss_program(work, prepared.architecture, solver=spec, clipping=True)
    params, stats = _estimator.params_and_stats(work)
    dtype = prepared.X.dtype
    n_rows = prepared.X.shape[0]
    n_pad = engine.padded_rows(n_rows)  # row buckets, as fit: similar sizes share the compiled sweep
    values = {name: np.asarray(v, dtype) for name, v in optimizer_params(spec, vars(work)).items()}
    if not has_learning_rate(jax.eval_shape(make_optimizer(spec, values).init, params)):
        raise ValueError(
            "lr_find sets the learning rate in the optimiser's state; this custom optax transformation has"
            " none. Build it with optax.inject_hyperparams(optax.adam)(learning_rate=...), or use a named solver."
        )
    lrs = np.geomspace(start, end, int(steps)).astype(dtype)
    batches = batch_indices(prepared.random_state, n_rows, batch_rows(work, n_rows), int(steps))
    seed = prepared.random_state.randint(np.iinfo(np.int32).max)
    _compilation_cache.enable()  # (as the first fit would)
    with _estimator.x64(dtype):
        raw, smoothed, ran, exploded = sweep_compiled(
            program,
            params,
            stats,
            values,
            engine.pad_rows(prepared.X, n_pad),
            engine.pad_rows(prepared.Y, n_pad),
            engine.pad_rows(prepared.weight, n_pad),
            batches,
            lrs,
            jax.random.PRNGKey(seed),
            prepared.hyper,
            np.asarray(SMOOTHING, dtype),
            np.asarray(DIVERGE_FACTOR, dtype),
        )
        raw, smoothed, ran, exploded = (np.asarray(a) for a in (raw, smoothed, ran, exploded))
    n_ran = int(ran.sum())
    if not np.isfinite(smoothed[0]):
        raise ValueError(
            f"the loss of the first mini-batch is {raw[0]}, not a finite number, before any step: check X and y"
            " for NaN or huge values (mlpkit.guide.advise(X, y) checks the scaling)."
        )
    lrs, raw, smoothed = lrs[:n_ran].astype(float), raw[:n_ran].astype(float), smoothed[:n_ran].astype(float)
    steep = steepest_descent(lrs, smoothed)
    tenth = minimum_tenth(lrs, smoothed)
    return LRFinderResult(
        lrs=lrs,
        losses=smoothed,
        raw_losses=raw,
        suggestion=steep if steep is not None else tenth,
        steepest=steep,
        minimum_tenth=tenth,
        diverged=bool(exploded),
    )

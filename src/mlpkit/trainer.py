"""The trainer: the one loop every stochastic fit runs, from a training state to the next.

``fit``, ``partial_fit``, warm fits, the FluCoMa estimators' ``fit``, stream chunks
(``partial_fit`` calls) and data-parallel fits all come here with a
``state.TrainState``, an ``engine.Program``, padded ``engine.Data`` and traced
``engine.Hyper`` values (``config.py`` makes the last three):

- ``start_state`` completes the state a fit starts from: the optimiser state and
  random key carried on, or fresh ones, hyper-parameters changed since the last
  fit applied, a new cycle for the horizon schedules of a new warm fit;
- ``run`` trains in the compiled loop a chunk of epochs at a time (about
  ``SECONDS_PER_CHUNK`` of work each), so Ctrl-C is honoured quickly and callbacks
  (verbose lines, the progress bar, the dashboard, run recording, the user's) hear
  of each epoch while training goes on; what they answer steers the fit
  (``callbacks.py``).

The trainer knows nothing of estimators beyond handing them to callbacks.
"""

from __future__ import annotations

import time
import warnings
from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from . import engine, packing
from .callbacks import call_hook, changes_asked, report_epochs
from .optim import SolverSpec, set_hyperparams
from .schedules import HORIZON_SCHEDULES
from .state import TrainState

#: Target wall time of one compiled chunk of epochs: short enough for Ctrl-C and progress.
SECONDS_PER_CHUNK = 0.25


class Outcome(NamedTuple):
    """What a fit's training produced."""

    state: TrainState  # on the host
    history: dict  # engine.CURVE_ROWS name -> one value per epoch of this fit
    n_iter: int  # epochs run in this fit
    stopped: bool  # the stopping rule fired (or a callback stopped it, or it diverged)
    diverged: bool  # the last epoch diverged; the network was rolled back
    zero_weight_batch: bool  # a mini-batch's sample weights summed to 0


def start_state(
    state: TrainState,
    spec: SolverSpec,
    settings: dict,
    previous_settings: dict | None,
    *,
    new_cycle: bool,
    seed: Callable[[], int] | None,
    dtype,
) -> TrainState:
    """The state a fit starts from.

    ``settings`` are the estimator's values of the solver's hyper-parameters
    (``learning_rate_init``, ``momentum``, ...) now, ``previous_settings`` those the
    state's optimiser was last given (None: the optimiser state does not carry on).
    Values changed since then take effect and the moments are kept. ``seed()``
    gives a seed for a new random key (None: the key carries on). ``new_cycle``
    starts the horizon schedules' cycle at this epoch.
    """
    if state.opt_state is None or previous_settings is None:
        values = {k: np.asarray(v, dtype) for k, v in settings.items()}
        opt_state = jax.device_get(engine.fresh_optimizer_state(spec, values, state.params))
        state = state._replace(
            opt_state=opt_state,
            lr_reference=np.asarray(settings.get("learning_rate_init", np.nan), dtype),
            optimizer_start=np.asarray(state.epoch, np.int32),
        )
    else:
        changed = {k: v for k, v in settings.items() if previous_settings.get(k) != v}
        state = state._replace(opt_state=set_hyperparams(state.opt_state, spec, changed))
    if seed is not None or state.key is None:
        state = state._replace(key=engine.seed_key(seed()))
    if new_cycle:
        state = state._replace(cycle_start=np.asarray(state.epoch, np.int32))
    return state


def restarts_cycle(schedule, incremental: bool) -> bool:
    """Whether a fit begins a new cycle of a horizon schedule: every ``fit``; never ``partial_fit``."""
    return not incremental and isinstance(schedule, str) and schedule in HORIZON_SCHEDULES


def run(
    program: engine.Program,
    state: TrainState,
    data: engine.Data,
    hyper: engine.Hyper,
    *,
    max_iter: int,
    model: Any = None,
    callbacks: list = (),
    on_change: Callable[[dict], None] | None = None,
) -> Outcome:
    """Train from ``state`` for up to ``max_iter`` epochs in the compiled loop.

    Callbacks are called as ``callback(model, EpochInfo)`` per epoch after each
    chunk; True stops training, a dict of the solver's hyper-parameters changes
    them for the rest of the fit (``on_change(dict)`` is told first, and may
    refuse by raising). The packed state stays on the device between chunks.
    """
    loop = engine.initial_loop_state(state)
    layout = packing.layout_of(loop)
    n_packed = len(layout.groups)
    cross = _crossing(program.mesh, n_packed)
    buffers, data, hyper = cross.state(packing.pack(loop, layout, np)), cross.inputs(data), cross.inputs(hyper)
    n_weights = sum(W.size for W in state.params["coefs"])
    # First guess from the work per epoch (~6 flops per weight per row, ~1 GFLOP/s).
    chunk = _chunk_epochs(6.0 * int(data.n_rows) * n_weights / 1e9, max_iter)
    call_hook(callbacks, "on_fit_start", model, max_iter)
    fit_started = time.perf_counter()
    history = {name: [] for name in engine.CURVE_ROWS}
    done = 0
    try:
        while done < max_iter:
            started = time.perf_counter()
            limit = cross.inputs(np.int32(min(max_iter, done + chunk)))
            new_buffers, curves = engine.run_epochs_compiled(program, layout, buffers, data, hyper._replace(epoch_limit=limit))
            # The packed buffers (counters, small arrays) come to the host after each chunk; large
            # weight arrays stay on the device until the fit ends.
            host = (*cross.fetch(new_buffers[:n_packed]), *new_buffers[n_packed:])
            buffers, loop = cross.state(host), packing.unpack(host, layout)
            ran, done = int(loop.n_iter) - done, int(loop.n_iter)
            for row, name in zip(cross.fetch(curves)[:, :ran], engine.CURVE_ROWS):
                history[name].extend(row.tolist())
            answers = report_epochs(model, callbacks, history, done - ran, time.perf_counter() - fit_started)
            if bool(loop.stopped) or True in answers:
                break
            changes = changes_asked(answers)
            if changes:
                if on_change is not None:
                    on_change(changes)
                train = loop.train
                loop = loop._replace(train=train._replace(opt_state=set_hyperparams(train.opt_state, program.solver, changes)))
                buffers = cross.state(packing.pack(loop, layout, np))
            if ran and done > chunk:  # the first chunk includes compiling: don't time it
                chunk = _chunk_epochs((time.perf_counter() - started) / ran, max_iter)
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.")
    finally:
        call_hook(callbacks, "on_fit_end", model)
    if len(buffers) > n_packed:  # large arrays crossed on their own: fetch them, once
        loop = cross.fetch(loop)
    return Outcome(loop.train, history, int(loop.n_iter), bool(loop.stopped), bool(loop.diverged), bool(loop.zero_weight_batch))


class _Crossing(NamedTuple):
    """How arrays cross the boundary of the compiled call, the same way at every call (a call whose
    arguments sit elsewhere than the last call's would compile again)."""

    inputs: Callable  # data and traced values
    state: Callable  # the packed state's buffers: the small ones, then the large leaves on their own
    fetch: Callable  # results, to numpy on the host


def _crossing(mesh, n_packed) -> _Crossing:
    """In one process the small buffers cross as numpy arrays (jit's own transfer is the cheapest for a
    few kB) and the large leaves stay on the device. Data parallel, every process holds the same values:
    everything enters as arrays replicated over ``mesh``, and results are read from this process's copy."""
    if mesh is None:  # (np.asarray: a third of jax.device_get's cost for a few small arrays)
        return _Crossing(
            inputs=lambda tree: tree,
            state=lambda buffers: (*buffers[:n_packed], *jax.device_put(buffers[n_packed:])),
            fetch=partial(jax.tree.map, np.asarray),
        )
    replicated = NamedSharding(mesh, PartitionSpec())

    def inputs(tree):
        return jax.tree.map(lambda a: jax.make_array_from_process_local_data(replicated, np.asarray(a)), tree)

    def fetch(tree):
        return jax.tree.map(lambda a: np.asarray(a.addressable_data(0)) if isinstance(a, jax.Array) else a, tree)

    return _Crossing(inputs=inputs, state=lambda buffers: inputs(fetch(buffers)), fetch=fetch)


def _chunk_epochs(seconds_per_epoch, max_iter):
    """Epochs in one compiled chunk: about ``SECONDS_PER_CHUNK`` of work, at least 1, at most ``max_iter``."""
    return int(min(max(SECONDS_PER_CHUNK / max(seconds_per_epoch, 1e-9), 1), max_iter))

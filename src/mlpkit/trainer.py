"""The trainer: the one loop every stochastic fit runs, from a training state to the next.

``fit``, ``partial_fit``, warm fits, the FluCoMa estimators' ``fit``, stream chunks
(``partial_fit`` calls) and data-parallel fits all come here with a
``state.TrainState``, a ``program.Program``, padded ``program.Data`` and traced
``program.Hyper`` values (``config.py`` makes the last three):

- ``start_state`` completes the state a fit starts from: the optimiser state and
  random key carried on, or fresh ones, hyper-parameters changed since the last
  fit applied, a new cycle for the horizon schedules of a new warm fit;
- ``run`` trains a chunk of epochs at a time (about ``SECONDS_PER_CHUNK`` of work
  each), in the compiled loop (``engine.py``) or, for work too small to repay a
  compile, in the numpy loop (``numpy_loop.py``, the same rules: which one depends
  only on the settings and the data's shape), so Ctrl-C is honoured quickly and callbacks
  (verbose lines, the progress bar, the dashboard, run recording, the user's) hear
  of each epoch while training goes on; what they answer steers the fit
  (``callbacks.py``).

Fits that train at once in threads (``mlpkit.fit_many``'s lanes) share a ``Lanes``:
their callbacks run one at a time, and Ctrl-C in any of them stops them all
between chunks.

The trainer knows nothing of estimators beyond handing them to callbacks.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from functools import partial
from typing import Any, Callable, NamedTuple

import numpy as np

from . import numpy_loop
from .callbacks import call_hook, changes_asked, report_epochs
from .program import CURVE_ROWS, Data, Hyper, Program, initial_loop_state, seed_key
from .schedules import HORIZON_SCHEDULES
from .solvers import SolverSpec, fresh_state, set_hyperparams
from .state import TrainState
from .training_data import SMALL_DATA_BYTES

#: Target wall time of one compiled chunk of epochs: short enough for Ctrl-C and progress.
SECONDS_PER_CHUNK = 0.25


class Lanes(NamedTuple):
    """What fits training at once in threads share (``mlpkit.fit_many``'s lanes). Each holds ``lock`` while
    its callbacks run, so that no two run at once; each stops between chunks once ``stop`` is set, keeping
    its epochs as a fit does on Ctrl-C (a fit not yet begun trains none). Ctrl-C reaches the main thread
    only: whoever waits there sets ``stop``, and a KeyboardInterrupt during a fit (the main thread's, or a
    callback's) sets it for all. The caller warns, once."""

    lock: threading.Lock
    stop: threading.Event


def new_lanes() -> Lanes:
    return Lanes(threading.Lock(), threading.Event())


class Outcome(NamedTuple):
    """What a fit's training produced."""

    state: TrainState  # on the host
    history: dict  # program.CURVE_ROWS name -> one value per epoch of this fit
    n_iter: int  # epochs run in this fit
    stopped: bool  # the stopping rule fired (or a callback stopped it, or it diverged)
    diverged: bool  # the last epoch diverged; the network was rolled back
    zero_weight_batch: bool  # a mini-batch's sample weights summed to 0
    error: BaseException | None = None  # a population member's callback raised this: the member ended there


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
        opt_state = fresh_state(spec, values, state.params)
        if opt_state is None:  # optax's own solvers and a user's transformation: their init knows the state
            import jax

            from . import _compilation_cache
            from .optim import fresh_state_compiled

            _compilation_cache.enable()
            with jax.enable_x64(np.dtype(dtype) == np.float64):
                opt_state = fresh_state_compiled(spec, values, state.params)
        state = state._replace(
            opt_state=opt_state,
            lr_reference=np.asarray(settings.get("learning_rate_init", np.nan), dtype),
            optimizer_start=np.asarray(state.epoch, np.int32),
        )
    else:
        changed = {k: v for k, v in settings.items() if previous_settings.get(k) != v}
        state = state._replace(opt_state=set_hyperparams(state.opt_state, spec, changed))
    if seed is not None or state.key is None:
        state = state._replace(key=seed_key(seed()))
    if new_cycle:
        state = state._replace(cycle_start=np.asarray(state.epoch, np.int32))
    return state


def restarts_cycle(schedule, incremental: bool) -> bool:
    """Whether a fit begins a new cycle of a horizon schedule: every ``fit``; never ``partial_fit``."""
    return not incremental and isinstance(schedule, str) and schedule in HORIZON_SCHEDULES


def run(
    program: Program,
    state: TrainState,
    data: Data,
    hyper: Hyper,
    *,
    max_iter: int,
    model: Any = None,
    callbacks: list = (),
    on_change: Callable[[dict], None] | None = None,
    lanes: Lanes | None = None,
    loop: str = "auto",
) -> Outcome:
    """Train from ``state`` for up to ``max_iter`` epochs in the compiled loop.

    Callbacks are called as ``callback(model, EpochInfo)`` per epoch after each
    chunk; True stops training, a dict of the solver's hyper-parameters changes
    them for the rest of the fit (``on_change(dict)`` is told first, and may
    refuse by raising). The packed state stays on the device between chunks. ``lanes``: this fit trains
    beside others in threads (see ``Lanes``). ``loop``: the estimator's ``training_loop`` ('auto': the
    numpy loop for work too small to repay a compile, ``numpy_loop.trains``).
    """
    member = Member(state, data, hyper, max_iter, model, callbacks, on_change)
    return _train(program, [member], _ONE, lanes, loop)[0]


class Member(NamedTuple):
    """One network of a population (``run_population``): what ``run`` takes for a single one."""

    state: TrainState
    data: Data
    hyper: Hyper
    max_iter: int
    model: Any = None
    callbacks: list = ()
    on_change: Callable[[dict], None] | None = None


def run_population(program: Program, members: list[Member], lanes: Lanes | None = None) -> list[Outcome]:
    """Train several networks of one program at once: the loop of ``run`` with the members' states and
    traced values stacked along a first axis and ``jax.vmap`` ped (``engine.run_population_compiled``).

    Each member is a fit of its own: its epochs, early stopping and divergence are its own (a member
    that stops stays as it stopped while the others go on), its callbacks hear of its epochs and steer
    it alone, and its ``Outcome`` is the one ``run`` would give it. The members' states must have one
    layout (one structure, one dtype); their data are shared where all are one object, else stacked.
    ``lanes``: the population trains beside others in threads (see ``Lanes``).
    """
    if program.mesh is not None:
        raise ValueError("a population trains in one process; data-parallel programs train one network at a time")
    shared = all(m.data is members[0].data for m in members)
    return _train(program, members, _population(shared), lanes)


class _Batching(NamedTuple):
    """How the loop holds its members: one network as it is, or a population stacked along a first axis."""

    stack: Callable  # list of the members' trees -> the tree the compiled call takes
    member: Callable  # (tree, i) -> member i's part of a tree the compiled call returned
    with_member: Callable  # (tree, i, part) -> the tree with member i's part replaced
    stack_data: Callable  # list of the members' Data -> the Data the compiled call takes
    compiled: Callable  # (the engine module, program, layout, buffers, data, hyper) -> (buffers, curves)
    isolates: bool  # an error of one member's callbacks ends that member only (else it ends the fit)


_ONE = _Batching(
    stack=lambda trees: trees[0],
    member=lambda tree, i: tree,
    with_member=lambda tree, i, part: part,
    stack_data=lambda datas: datas[0],
    compiled=lambda engine, *args: engine.run_epochs_compiled(*args),  # (looked up at each call: tests patch it)
    isolates=False,
)


def _stacked(trees):
    import jax

    return jax.tree.map(lambda *leaves: np.stack(leaves), *trees)


def _with_member(tree, i, part):
    import jax

    def replaced(whole, new):
        whole = np.array(whole)  # (host leaves are read-only views of the fetched buffers)
        whole[i] = new
        return whole

    return jax.tree.map(replaced, tree, part)


def _population(shared_data: bool) -> _Batching:
    import jax

    return _Batching(
        stack=_stacked,
        member=lambda tree, i: jax.tree.map(lambda leaf: np.array(leaf[i]), tree),
        with_member=_with_member,
        stack_data=(lambda datas: datas[0]) if shared_data else _stacked,
        compiled=lambda engine, *args: engine.run_population_compiled(*args, shared_data=shared_data),
        isolates=True,
    )


def _train(program: Program, members: list[Member], batching: _Batching, lanes: Lanes | None,
           loop: str = "auto") -> list[Outcome]:  # fmt: skip
    """The loop of ``run`` and ``run_population``: chunks of epochs in the compiled loop (or, for one
    small fit, the numpy loop: ``numpy_loop.trains``), each member's callbacks told of its epochs after
    each chunk; a member ends when it stops, runs out of epochs or a callback says so (in a population
    it then stays as it is: its epoch limit is where it ended)."""
    hooks = contextlib.nullcontext() if lanes is None else lanes.lock
    max_iter = max(m.max_iter for m in members)
    only = members[0]
    if batching is _ONE and numpy_loop.trains(program, only.data, only.max_iter, only.state.params, loop):
        epochs = _NumpyEpochs(program, only.state, only.data, only.hyper)
    else:
        epochs = _CompiledEpochs(program, members, batching)
    n_weights = sum(W.size for W in only.state.params["coefs"])
    # First guess from the work per epoch (~6 flops per weight per row, ~1 GFLOP/s).
    chunk = _chunk_epochs(6.0 * len(members) * int(np.max(only.data.n_rows)) * n_weights / 1e9, max_iter)
    histories = [{name: [] for name in CURVE_ROWS} for _ in members]
    done, running, errors = [0] * len(members), [True] * len(members), [None] * len(members)

    def isolated(i, hook, *args):
        """``hook(*args)`` for member ``i``; in a population an error ends that member alone (kept in errors)."""
        try:
            with hooks:  # (beside other lanes: one callback at a time)
                return hook(*args)
        except Exception as error:
            if not batching.isolates:
                raise
            errors[i], running[i] = error, False
            return None

    with epochs.precision():  # (float64 in JAX: x64 on for the fit, in the thread that trains)
        for i, m in enumerate(members):
            isolated(i, call_hook, m.callbacks, "on_fit_start", m.model, m.max_iter)
        fit_started = time.perf_counter()
        loop = epochs.loop
        try:
            while any(running) and not (lanes is not None and lanes.stop.is_set()):
                started = time.perf_counter()
                limits = [min(m.max_iter, d + chunk) if go else d for m, d, go in zip(members, done, running)]
                loop, curves = epochs.run(batching.stack([np.int32(n) for n in limits]))
                most, changed = 0, False
                for i, m in enumerate(members):
                    if not running[i]:
                        continue
                    n_iter = int(batching.member(loop.n_iter, i))
                    ran, done[i] = n_iter - done[i], n_iter
                    most = max(most, ran)
                    for row, name in zip(batching.member(curves, i)[:, :ran], CURVE_ROWS):
                        histories[i][name].extend(row.tolist())
                    answers = isolated(i, report_epochs, m.model, m.callbacks, histories[i], n_iter - ran,
                                       time.perf_counter() - fit_started)  # fmt: skip
                    if not running[i] or bool(batching.member(loop.stopped, i)) or True in answers:
                        running[i] = False
                        continue
                    changes = changes_asked(answers)
                    if changes and m.on_change is not None:
                        isolated(i, m.on_change, changes)  # (which may refuse them by raising)
                    if changes and running[i]:
                        train = loop.train
                        opt_state = set_hyperparams(batching.member(train.opt_state, i), program.solver, changes)
                        opt_state = batching.with_member(train.opt_state, i, opt_state)
                        loop = loop._replace(train=train._replace(opt_state=opt_state))
                        changed = True
                    running[i] = running[i] and n_iter < m.max_iter
                if changed:
                    epochs.set(loop)
                if most and max(done) > chunk:  # the first chunk includes compiling: don't time it
                    chunk = _chunk_epochs((time.perf_counter() - started) / most, max_iter)
        except KeyboardInterrupt:
            if lanes is None:
                warnings.warn("Training interrupted by user.")
            else:  # the other lanes stop at their next chunk; the caller warns once, on the main thread
                lanes.stop.set()
        finally:
            for i, m in enumerate(members):
                isolated(i, call_hook, m.callbacks, "on_fit_end", m.model)
        loop = epochs.result(loop)
        return [
            Outcome(batching.member(loop.train, i), histories[i], int(batching.member(loop.n_iter, i)),
                    bool(batching.member(loop.stopped, i)), bool(batching.member(loop.diverged, i)),
                    bool(batching.member(loop.zero_weight_batch, i)), errors[i])
            for i in range(len(members))
        ]  # fmt: skip


class _NumpyEpochs:
    """One fit's epochs in the numpy loop (``numpy_loop.run_epochs``): the loop state stays on the host."""

    def __init__(self, program, state: TrainState, data, hyper):
        self.program, self.data, self.hyper = program, data, hyper
        self.loop = initial_loop_state(state)
        self.precision = contextlib.nullcontext

    def run(self, limit):
        """Train up to ``limit`` epochs of this fit: (the loop state, this chunk's curves)."""
        self.loop, curves = numpy_loop.run_epochs(self.program, self.loop, self.data, self.hyper._replace(epoch_limit=limit))
        return self.loop, curves

    def set(self, loop):
        """Go on from ``loop`` (a callback changed its state)."""
        self.loop = loop

    def result(self, loop):
        return loop


class _CompiledEpochs:
    """The members' epochs in the compiled loop: their loop states packed into a few buffers
    (``packing.py``) that stay on the device between chunks, large weight arrays on their own."""

    def __init__(self, program, members: list[Member], batching: _Batching):
        import jax  # (here: a fit the numpy loop trains never imports JAX)

        from . import _compilation_cache, engine, packing

        _compilation_cache.enable()  # once per process, at the first compiled fit
        self.program, self.batching, self.packing = program, batching, packing
        self.loop = batching.stack([initial_loop_state(m.state) for m in members])
        self.layout = packing.layout_of(self.loop)
        self.n_packed = len(self.layout.groups)
        self.cross = _crossing(program.mesh, self.n_packed)
        data = batching.stack_data([m.data for m in members])
        self.precision = partial(jax.enable_x64, np.dtype(data.X.dtype) == np.float64)
        with self.precision():
            if program.mesh is None and sum(a.nbytes for a in data) >= SMALL_DATA_BYTES:
                data = jax.device_put(data)  # once per fit, not per chunk of epochs
            self.data = self.cross.inputs(data)
            self.hyper = self.cross.inputs(batching.stack([m.hyper for m in members]))
            self.buffers = self.cross.state(packing.pack(self.loop, self.layout, np))
        self.engine = engine

    def run(self, limit):
        limit = self.cross.inputs(limit)
        new_buffers, curves = self.batching.compiled(self.engine, self.program, self.layout, self.buffers, self.data,
                                                     self.hyper._replace(epoch_limit=limit))  # fmt: skip
        # The packed buffers (counters, small arrays) come to the host after each chunk; large
        # weight arrays stay on the device until the fit ends.
        host = (*self.cross.fetch(new_buffers[: self.n_packed]), *new_buffers[self.n_packed :])
        self.buffers = self.cross.state(host)
        return self.packing.unpack(host, self.layout), self.cross.fetch(curves)

    def set(self, loop):
        self.buffers = self.cross.state(self.packing.pack(loop, self.layout, np))

    def result(self, loop):
        if len(self.buffers) > self.n_packed:  # large arrays crossed on their own: fetch them, once
            loop = self.cross.fetch(loop)
        return loop


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
    import jax
    from jax.sharding import NamedSharding, PartitionSpec

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

"""FluCoMa-style ``MLPRegressor`` and ``MLPClassifier``: FluCoMa's parameters, habits and training.

They behave as FluCoMa's objects do in Max, Pure Data and SuperCollider:

- ``fit(source, target)`` pairs the rows of two DataSets (or a DataSet and a
  LabelSet) by identifier, trains, and returns FluCoMa's error: ``sum over outputs
  of (prediction - target)^2``, averaged over the training rows, after the fit;
- they train as flucoma-core does (``training.py`` has the rules, read from its
  source): FluCoMa's loss (that same error, whose gradient is ``2 (pred - y) / rows``),
  damped momentum ``v <- m v + (1 - m) lr g``, Glorot-uniform weights and zero biases,
  FluCoMa's batches (the remainder rides on the first), and with ``validation > 0``
  a held-out share that stops the fit after 10 epochs in a row whose validation loss
  is not below the previous epoch's, keeping the last weights;
- calling ``fit`` again continues from the current weights, momentum and random
  stream; ``learn_rate``, ``momentum``, ``batch_size``, ``max_iter`` and ``validation``
  may change between fits without a reset, while ``hidden_layers``, ``activation``,
  ``output_activation`` or the data's width start a new network; ``clear()`` starts one
  explicitly;
- ``tap_in`` / ``tap_out`` (regressor) pick the layers ``predict`` runs through:
  from a hidden layer (a decoder) or up to one (an embedding).

Differences from flucoma-core, on purpose: the validation rows are never trained on
(FluCoMa's documentation says they are held back; its code trains on them in later
epochs), and a diverging fit (NaN) warns and leaves the network as it was before the
fit instead of clearing it; it still returns FluCoMa's ``-1``.

The weights and training history live in ``network_``, an ``mlpkit.MLPRegressor`` (so
saving, plots, ONNX export and the command line work on it as on any mlpkit model);
its training state (``network_._state``) holds the weights and ``flucoma_sgd``'s
velocities as views of the two flat buffers that ``training.fit`` trains in place (in
numba kernels, ``_small.py``: hand loops for small networks, BLAS products for larger ones), with
the random key and the epochs trained so far. Each epoch's shuffle comes from (key,
epoch), so ten fits of 6 epochs train as one of 60, also across a save, load or pickle.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from .. import estimators
from .._refits import Origin, ParamNamesOnce, PicklesWithoutCaches, _restore_on_error
from ..estimators import _store_init_arguments
from ..guide.sizing import DataSizeWarning, data_size_note
from ..history import CURVES
from ..optim import make_optimizer, optimizer_params, solver_spec
from . import _small, training
from . import model as flucoma_model
from .dataset import DataSet, LabelSet, pair_by_identifier
from .jsonio import write_json

#: The solver whose optimiser state the FluCoMa velocities are (``network_._origin.solver``).
_FLUCOMA_SGD = solver_spec("flucoma_sgd", {})


def _activation(code_or_name, parameter):
    """mlpkit's name for a FluCoMa activation given as a code 0-3 or a name."""
    if isinstance(code_or_name, str):
        name = {"sigmoid": "logistic", "linear": "identity"}.get(code_or_name, code_or_name)
        if name in flucoma_model.ACTIVATION_CODES:
            return name
        raise ValueError(
            f"{parameter}={code_or_name!r} is not one of FluCoMa's activations: 0 'identity', 1 'sigmoid',"
            " 2 'relu', 3 'tanh' (give the code or the name)."
        )
    try:
        return flucoma_model.activation_name(code_or_name)
    except ValueError as error:
        raise ValueError(f"{parameter}: {error}") from None


def _as_pairs(source, target):
    """(ids or None, X, Y) from two DataSets/LabelSets paired by identifier, or from arrays."""
    if isinstance(source, DataSet):
        if not isinstance(target, (DataSet, LabelSet)):
            raise TypeError(f"target must be a DataSet or LabelSet when source is a DataSet; got {type(target).__name__}")
        return pair_by_identifier(source, target)
    X, Y = np.asarray(source, dtype=float), np.asarray(target)
    if X.ndim != 2 or len(X) != len(Y):
        raise ValueError(f"source must be 2-D and have as many rows as target; got {X.shape} and {Y.shape}")
    return None, X, Y


#: Epochs of training curves a network keeps (``network_.loss_curve_``, ...): a live loop fits for as long as
#: a piece plays, and FluCoMa keeps no history at all.
HISTORY_EPOCHS = 100_000


def _keep_recent_history(network):
    """Drop the oldest epochs of the curves once they hold twice ``HISTORY_EPOCHS`` (amortised: one cut per
    ``HISTORY_EPOCHS`` epochs)."""
    for name in CURVES.values():
        curve = getattr(network, name, None)
        if curve is not None and len(curve) > 2 * HISTORY_EPOCHS:
            del curve[:-HISTORY_EPOCHS]


def _same(a, b) -> bool:
    """Equal parameter values, tuples of them compared item by item (lists and arrays as sequences)."""
    return len(a) == len(b) and all(x is y or (type(x) is type(y) and _equal(x, y)) for x, y in zip(a, b))


def _equal(x, y) -> bool:
    try:
        return bool(np.all(x == y)) if isinstance(x, np.ndarray) else bool(x == y)
    except (TypeError, ValueError):
        return False


def _fresh_key(random_state) -> np.ndarray:
    """A new 64-bit key (two uint32 words, as ``TrainState.key``) for training's random stream."""
    return check_random_state(random_state).randint(np.iinfo(np.uint32).max, size=2, dtype=np.uint32)


def _network_layout(network) -> training.Layout:
    """The flat-buffer layout of the network ``network`` holds (not of the parameters, which may have changed)."""
    coefs, codes = network.coefs_, flucoma_model.ACTIVATION_CODES
    sizes = [np.shape(coefs[0])[0], *(np.shape(W)[1] for W in coefs)]
    return training.Layout.of(sizes, [codes[network.activation]] * (len(coefs) - 1) + [codes[network.out_activation_]])


class _Buffers:
    """A network's parameters and FluCoMa velocities as two flat float64 buffers (``training.Layout``), which
    ``training.fit`` trains in place, bound to ``network``: the ``coefs``/``intercepts`` of its training state
    (``network._state``, so ``coefs_``/``intercepts_``) and the velocities of the state's ``opt_state``
    (``flucoma_sgd``'s, so saving and pickling keep them) are views of them; ``network._origin`` says so.

    The random stream is ``training.RandomStream(key, epoch)``: the state's ``key`` (kept, saved with the
    model) and ``epoch`` (all epochs trained so far), so a loop of short fits draws as one long fit.
    """

    def __init__(self, network, layout: training.Layout):
        state = network._state
        self.layout = layout
        self.packed = _small.pack(layout.sizes, layout.codes, layout.n_params)  # (predict_point's argument)
        self.params = self.packed[self.packed.shape[0] - layout.n_params :]
        self.params[:] = layout.flatten(state.params["coefs"], state.params["intercepts"])
        velocity = self._carried_velocity(network)
        self.velocity = np.zeros_like(self.params) if velocity is None else layout.flatten(*velocity)
        key = _fresh_key(network.random_state) if state.key is None else state.key
        coefs, intercepts = (tuple(views) for views in layout.views(self.params))
        params = {**state.params, "coefs": coefs, "intercepts": intercepts}
        self.network = network
        self.state = network._state = state._replace(
            params=params, best_params=params, opt_state=self._opt_state(params), key=np.asarray(key, np.uint32)
        )  # (best_params: FluCoMa keeps the last weights)
        self.point_shape, self.n_outputs = (int(layout.sizes[0]),), int(layout.sizes[-1])
        self.settings = None  # the fit's training.Settings, and the parameter values they came from
        self.values = None
        self._set_origin()
        self._keep_key()

    @staticmethod
    def _carried_velocity(network):
        """``(coefs, intercepts)`` of the velocities in the network's optimiser state, if it is FluCoMa's."""
        state, origin = network._state, network.__dict__.get("_origin")
        if state.opt_state is None or origin is None or origin.solver != _FLUCOMA_SGD:
            return None
        velocity = state.opt_state.inner_state.velocity
        return velocity["coefs"], velocity["intercepts"]

    def _opt_state(self, params):
        """``flucoma_sgd``'s optax state around the velocity views, as ``mlpkit.save`` stores it."""
        hyper = optimizer_params(_FLUCOMA_SGD, vars(self.network))
        with jax.enable_x64(True):
            template = jax.eval_shape(make_optimizer(_FLUCOMA_SGD, {k: np.float64(v) for k, v in hyper.items()}).init, params)
        state = jax.tree.map(lambda leaf: np.zeros(leaf.shape, leaf.dtype), template)
        coefs, intercepts = self.layout.views(self.velocity)
        velocity = {**state.inner_state.velocity, "coefs": tuple(coefs), "intercepts": tuple(intercepts)}
        return state._replace(inner_state=state.inner_state._replace(velocity=velocity))

    def _set_origin(self):
        network = self.network
        settings = optimizer_params(_FLUCOMA_SGD, vars(network))
        self.state.opt_state.hyperparams.update(learning_rate=np.float64(network.learning_rate_init),
                                                momentum=np.float64(network.momentum))  # fmt: skip
        network._origin = Origin(_FLUCOMA_SGD, settings, network.random_state)

    def bound_to(self, network) -> bool:
        """Whether ``network`` still holds these views: its training state is the one they made (mlpkit makes a
        new state whenever the weights are replaced, by hand, by loading or by unpickling)."""
        return self.network is network and network.__dict__.get("_state") is self.state

    def same_structure(self, layout) -> bool:
        return np.array_equal(self.layout.sizes, layout.sizes) and np.array_equal(self.layout.codes, layout.codes)

    def stream(self) -> training.RandomStream:
        """This fit's random numbers: the network's key, from the epoch it has reached."""
        return training.RandomStream(self.key, int(self.state.epoch))

    def rekey(self, random_state):
        """A new random stream (``random_state`` was changed)."""
        self.state = self.network._state = self.state._replace(key=_fresh_key(random_state))
        self._keep_key()

    def _keep_key(self):
        k0, k1 = (int(word) for word in self.state.key)
        self.key = k0 << 32 | k1  # (the stream's 64-bit key)

    def record(self, result: training.Result):
        """The fit's history on the network, as an mlpkit fit keeps it, and the training state's counters."""
        network, settings = self.network, self.settings
        network.n_iter_ = result.epochs
        network.t_ += result.epochs * result.rows
        network.loss_curve_.extend(result.loss_curve.tolist())
        network.learning_rate_curve_.extend([settings.learn_rate] * result.epochs)
        if result.val_curve is not None:
            if network.__dict__.get("validation_loss_curve_") is None:
                network.validation_loss_curve_ = []
            network.validation_loss_curve_.extend(result.val_curve.tolist())
        if result.epochs:
            network.loss_ = float(result.loss_curve[-1])
        steps = result.epochs * (result.rows // min(settings.batch_size, result.rows))  # (training.batch_bounds)
        state = self.state
        self.state = network._state = state._replace(
            epoch=np.int32(state.epoch + result.epochs), step=np.int32(state.step + steps)
        )


class _FluCoMaMLP(PicklesWithoutCaches, ParamNamesOnce, BaseEstimator):
    """What the FluCoMa-style regressor and classifier share; use those."""

    _output_activation = None  # the classifier fixes its own
    # the pairing refers to the user's DataSets; the buffers to network_; the data-size note was said in this process
    _caches = ("_paired", "_flat", "_data_size_said")

    def _pairs(self, source, target):
        """``_as_pairs(source, target)``, reused while neither DataSet changed: live re-fitting calls
        ``fit`` on the same sets again and again, and pairing 200 points costs more than 10 epochs."""
        versions = (getattr(source, "_version", None), getattr(target, "_version", None))
        cached = self.__dict__.get("_paired")
        if cached is not None and cached[0] is source and cached[1] is target and cached[2] == versions:
            return cached[3]
        pairs = _as_pairs(source, target)
        if isinstance(source, DataSet):  # arrays may change in place unseen: pair them afresh each time
            for array in pairs[1:]:
                array.flags.writeable = False  # new arrays, shared by later fits
            self._paired = (source, target, versions, pairs)
        return pairs

    def _network_params(self, n_outputs):
        """The ``mlpkit.MLPRegressor`` parameters that describe this network and its training, as ``network_``
        holds them (``training.mlpkit_parameters``: saving, loading and exporting read them)."""
        settings = training.Settings(self.max_iter, self.batch_size, self.learn_rate, self.momentum, self.validation)
        activation = _activation(self.activation, "activation")
        out_activation = self._output_activation or _activation(self.output_activation, "output_activation")
        return training.mlpkit_parameters(self.hidden_layers, activation, out_activation, settings, self.random_state)

    def _check_parameters(self):
        if not 0 <= self.validation < 1:
            raise ValueError(f"validation must be in [0, 1) (the share of points held out); got {self.validation!r}")
        for name in ("max_iter", "batch_size"):
            value = getattr(self, name)
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if not self.learn_rate > 0:
            raise ValueError(f"learn_rate must be > 0; got {self.learn_rate!r}")
        if not 0 <= self.momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1]; got {self.momentum!r}")
        if any(int(n) < 1 for n in self.hidden_layers):
            raise ValueError(f"hidden_layers must be positive sizes; got {list(self.hidden_layers)!r}")

    def _layout(self, n_inputs, n_outputs) -> training.Layout:
        """The flat-buffer layout of the network these parameters describe."""
        hidden = [int(n) for n in self.hidden_layers]
        codes = flucoma_model.ACTIVATION_CODES
        hidden_code = codes[_activation(self.activation, "activation")]
        output_code = codes[self._output_activation or _activation(self.output_activation, "output_activation")]
        return training.Layout.of([n_inputs, *hidden, n_outputs], [hidden_code] * len(hidden) + [output_code])

    def _train(self, X, Y):
        """One FluCoMa fit of the network on (X, Y), continuing where possible; FluCoMa's error, or -1 if it
        diverged."""
        buffers = self._ready_buffers(X.shape[1], Y.shape[1], X.shape[0])
        before = buffers.params.copy(), buffers.velocity.copy()
        try:
            result = training.fit(buffers.params, buffers.velocity, buffers.layout, X, Y, buffers.settings, buffers.stream(),
                                  model=self.network_, callbacks=self.network_.callbacks or ())  # fmt: skip
        except BaseException:  # (a callback's error, a bad setting): the network as it was
            buffers.params[:], buffers.velocity[:] = before
            raise
        if not np.isfinite(result.error):
            buffers.params[:], buffers.velocity[:] = before
            warnings.warn(
                "Training diverged (the network's outputs became NaN or infinite); the network is as it was"
                " before this fit. Try a smaller learn_rate.",
                RuntimeWarning,
            )
            return -1.0
        buffers.record(result)
        _keep_recent_history(self.network_)
        return result.error

    def _ready_buffers(self, n_inputs, n_outputs, n_rows) -> _Buffers:
        """The network to train, with this fit's settings: the current one, or a new one when the structure or
        the data's width changed (as FluCoMa). A live loop refits with the same parameters again and again:
        then nothing is checked again."""
        values = (self.hidden_layers, self.activation, getattr(self, "output_activation", None), self.max_iter, self.batch_size,
                  self.learn_rate, self.momentum, self.validation, self.random_state, n_inputs, n_outputs)  # fmt: skip
        buffers = self._buffers() if "network_" in self.__dict__ else None
        if buffers is not None and buffers.values is not None and _same(buffers.values, values):
            return buffers
        self._check_parameters()
        layout = self._layout(n_inputs, n_outputs)
        if buffers is None or not buffers.same_structure(layout):
            buffers = self._new_network(layout, n_rows)
        network = self.network_
        changed = {k: v for k, v in self._network_params(n_outputs).items() if network.__dict__[k] != v}
        if changed:  # (described on the network, so saving it keeps them)
            network.set_params(**changed)
            network._validate_params()
            buffers._set_origin()
            if "random_state" in changed:
                buffers.rekey(self.random_state)
        buffers.settings = training.Settings(self.max_iter, int(self.batch_size), float(self.learn_rate),
                                             float(self.momentum), float(self.validation))  # fmt: skip
        buffers.values = tuple(v.copy() if isinstance(v, (list, np.ndarray)) else v for v in values)  # (not the user's list)
        return buffers

    def _new_network(self, layout, n_rows) -> _Buffers:
        """A new Glorot-uniform network as ``network_`` (FluCoMa's rule of thumb advises on its size)."""
        random_state = check_random_state(self.random_state)
        coefs, intercepts = layout.views(training.glorot_uniform(layout, random_state))
        network = estimators.MLPRegressor(**self._network_params(layout.sizes[-1]))
        network._validate_params()
        network._adopt_network(coefs, intercepts)
        self._note_data_size(layout, n_rows)
        self.network_ = network
        network._state = network._state._replace(key=_fresh_key(random_state))
        return self._bind(network, layout)

    def _note_data_size(self, layout, n_rows) -> None:
        """FluCoMa's rule of thumb (rows per parameter) as a ``DataSizeWarning`` in FluCoMa's words, once per
        network structure and number of points: a live loop that clears and refits hears it once."""
        n_in, *hidden, n_out = layout.sizes.tolist()
        said = (tuple(layout.sizes.tolist()), int(n_rows))
        if self.__dict__.get("_data_size_said") == said:
            return
        self._data_size_said = said
        note = data_size_note(n_rows, n_in, tuple(hidden), n_out, interface="flucoma")
        if note is not None:
            warnings.warn(note, DataSizeWarning, stacklevel=6)  # (the caller of fit)

    def _buffers(self) -> _Buffers:
        """The flat buffers ``network_`` is a view of, bound again if its arrays were replaced (a read or loaded
        model, an unpickled one, weights assigned by hand)."""
        buffers = self.__dict__.get("_flat")
        network = self.network_
        if buffers is not None and buffers.bound_to(network):
            return buffers
        return self._bind(network, _network_layout(network))

    def _bind(self, network, layout) -> _Buffers:
        self._flat = _Buffers(network, layout)
        return self._flat

    def _point_outputs(self, vector):
        """The network's outputs for one point in numba (``_small.predict_point``: 2.4 against 25 µs a point at
        13 -> [16, 16] -> 8, 24 against 27 µs at 128 -> [256] -> 8), or None where that path does not apply (no
        network, a point of another shape or not finite: the caller's checks say what is wrong)."""
        if self.__dict__.get("network_") is None:
            return None
        buffers = self._buffers()  # (bound again if the network's weights were replaced)
        x = np.asarray(vector, dtype=float)
        if x.shape == buffers.point_shape:
            out = np.empty(buffers.n_outputs)
            if _small.predict_point(buffers.packed, x, out):
                return out
        return None

    def clear(self):
        """Forget the network: the next ``fit`` starts from new random weights."""
        self.__dict__.pop("network_", None)
        self.__dict__.pop("_flat", None)
        return self

    @property
    def layers(self) -> list[flucoma_model.Layer]:
        """The network as FluCoMa's layers (weights ``(rows, cols)``, biases, activation)."""
        self._check_trained()
        net = self.network_
        activations = [net.activation] * (len(net.coefs_) - 1) + [net.out_activation_]
        return [flucoma_model.Layer(W, b, act) for W, b, act in zip(net.coefs_, net.intercepts_, activations)]

    def _check_trained(self):
        if getattr(self, "network_", None) is None or not hasattr(self.network_, "coefs_"):
            raise RuntimeError(f"This {type(self).__name__} has no network yet: fit it, or read a model file.")

    def _adopt_layers(self, layers):
        """Hold a network with these layers (from a FluCoMa file); on error this object stays as it was."""
        with _restore_on_error(self):
            self._adopt_layers_unguarded(layers)

    def _adopt_layers_unguarded(self, layers):
        hidden = {layer.activation for layer in layers[:-1]}
        if len(hidden) > 1:
            raise ValueError(f"FluCoMa networks share one hidden activation; these layers have {sorted(hidden)}")
        activation = hidden.pop() if hidden else "identity"
        codes = flucoma_model.ACTIVATION_CODES
        self.hidden_layers = [layer.weights.shape[1] for layer in layers[:-1]]
        self.activation = codes[activation]
        if self._output_activation is None:
            self.output_activation = codes[layers[-1].activation]
        network = estimators.MLPRegressor(**self._network_params(layers[-1].weights.shape[1]))
        network._adopt_network([layer.weights for layer in layers], [layer.biases for layer in layers])
        self.network_ = network
        self.__dict__.pop("_flat", None)  # (bound again to this network when it trains or predicts a point)


class MLPRegressor(_FluCoMaMLP):
    """FluCoMa's MLPRegressor: map DataSet rows to DataSet rows, trained in short repeated fits.

    Parameters (FluCoMa's names and defaults)
    ----------
    hidden_layers : list of int, default=[3, 3]
    activation : int or str, default=2
        Hidden activation: 0 identity, 1 sigmoid, 2 relu, 3 tanh (code or name).
    output_activation : int or str, default=0
    max_iter : int, default=1000
        Epochs per ``fit``.
    learn_rate : float, default=0.01
    momentum : float, default=0.9
    batch_size : int, default=50
    validation : float, default=0.2
        Share of the points held out to stop training early; 0 trains on all.
    tap_in, tap_out : int, default=0, -1
        ``predict`` runs through layers ``tap_in`` to ``tap_out`` (-1: the last).
    random_state : int or None, default=None
        Seeds weights, batches and the validation split (mlpkit's addition).
    """

    def __init__(
        self,
        hidden_layers=(3, 3),
        activation=2,
        output_activation=0,
        max_iter=1000,
        learn_rate=0.01,
        momentum=0.9,
        batch_size=50,
        validation=0.2,
        tap_in=0,
        tap_out=-1,
        random_state=None,
    ):
        _store_init_arguments(self, locals())

    def fit(self, source, target) -> float:
        """Train on ``target`` rows paired with ``source`` rows by identifier; returns the training error."""
        _, X, Y = self._pairs(source, target)
        return self._train(X, np.asarray(Y, dtype=float).reshape(len(X), -1))

    def predict(self, source):
        """Predict every row of a DataSet (a DataSet with the same identifiers), or of a 2-D array."""
        if isinstance(source, DataSet):
            ids, X = source.to_numpy()
            return DataSet.from_numpy(ids, self._predict_array(X))
        return self._predict_array(np.asarray(source, dtype=float))

    def predict_point(self, vector) -> np.ndarray:
        """Predict one point (a 1-D vector)."""
        if self.tap_in == 0 and self.tap_out == -1:
            out = self._point_outputs(vector)
            if out is not None:
                return out
        return self._predict_array(np.asarray(vector, dtype=float).reshape(1, -1))[0]

    def _predict_array(self, X):
        self._check_trained()
        if self.tap_in == 0 and self.tap_out == -1:
            return self.network_.predict(X).reshape(len(X), -1)
        return flucoma_model.predict_layers(self.layers, X, self.tap_in, self.tap_out)

    def to_dict(self) -> dict:
        """FluCoMa's MLPRegressor JSON object."""
        return flucoma_model.regressor_to_dict(self.layers)

    def write(self, path) -> None:
        """Write a model file that FluCoMa's ``read`` loads (atomically)."""
        flucoma_model.write_regressor(path, self.layers)

    def read(self, path_or_dict):
        """Load a FluCoMa MLPRegressor model file; ``fit`` then trains on from its weights."""
        self._adopt_layers(flucoma_model.read_regressor(path_or_dict))
        return self


class MLPClassifier(_FluCoMaMLP):
    """FluCoMa's MLPClassifier: label DataSet rows, one sigmoid output per label.

    Trained on one-hot targets with the squared error, as FluCoMa does; labels
    take output units in the order they first appear. Parameters as
    :class:`MLPRegressor` (no output activation, no taps), momentum 0.5 by default.
    """

    _output_activation = "logistic"

    def __init__(
        self,
        hidden_layers=(3, 3),
        activation=2,
        max_iter=1000,
        learn_rate=0.01,
        momentum=0.5,
        batch_size=50,
        validation=0.2,
        random_state=None,
    ):
        _store_init_arguments(self, locals())

    def fit(self, source, target) -> float:
        """Train on ``target`` labels paired with ``source`` rows by identifier; returns the training error."""
        _, X, labels = self._pairs(source, target)
        labels = np.asarray(labels).astype(str).ravel()
        classes = [str(label) for label in dict.fromkeys(labels)]  # in order of first appearance
        if getattr(self, "network_", None) is not None and set(classes) <= set(self.labels_):
            classes = self.labels_  # the same outputs: train on
        one_hot = (labels[:, None] == np.asarray(classes)[None, :]).astype(float)
        error = self._train(X, one_hot)
        if error != -1.0:
            self.labels_ = classes
        return error

    def predict_proba(self, source) -> np.ndarray:
        """Sigmoid outputs normalised to sum to 1 per row, columns in the order of ``labels_``."""
        X = source.to_numpy()[1] if isinstance(source, DataSet) else np.asarray(source, dtype=float)
        self._check_trained()
        outputs = self.network_.predict(X).reshape(len(X), -1)
        return outputs / outputs.sum(axis=1, keepdims=True)

    def predict(self, source):
        """The label of the strongest output for each row: a LabelSet for a DataSet, else an array."""
        proba = self.predict_proba(source)
        labels = np.asarray(self.labels_)[proba.argmax(axis=1)]
        if isinstance(source, DataSet):
            return LabelSet.from_numpy(source.ids, labels)
        return labels

    def predict_point(self, vector) -> str:
        """The label of one point: its strongest output's."""
        out = self._point_outputs(vector)
        if out is not None:
            return self.labels_[int(np.argmax(out))]
        return str(self.predict(np.asarray(vector, dtype=float).reshape(1, -1))[0])

    def to_dict(self) -> dict:
        """FluCoMa's MLPClassifier JSON object."""
        return flucoma_model.classifier_to_dict(self.layers, self.labels_)

    def write(self, path) -> None:
        """Write a model file that FluCoMa's ``read`` loads (atomically)."""
        flucoma_model.write_classifier(path, self.layers, self.labels_)

    def read(self, path_or_dict):
        """Load a FluCoMa MLPClassifier model file; ``fit`` then trains on from its weights."""
        layers, labels = flucoma_model.read_classifier(path_or_dict)
        if layers[-1].activation != "logistic":
            raise ValueError("a FluCoMa classifier's output layer is sigmoid (code 1); this file's is not")
        self._adopt_layers(layers)
        self.labels_ = list(labels)
        return self


# ------------------------------------------------------------ any model to FluCoMa
def to_flucoma_dict(model) -> dict:
    """FluCoMa's JSON for a fitted mlpkit model: a regressor's, or a classifier's with its labels.

    Works for the FluCoMa-style estimators and for ``mlpkit.MLPRegressor`` /
    ``mlpkit.MLPClassifier`` whose activations are among FluCoMa's four
    (identity, sigmoid, relu, tanh) and that have no batch norm or learned slopes.
    A core classifier must have one sigmoid output per class (``loss="squared_error"``
    with three or more classes, FluCoMa's own kind of classifier).
    """
    if isinstance(model, _FluCoMaMLP):
        return model.to_dict()
    layers = core_layers(model)
    if isinstance(model, estimators.MLPClassifier):
        if model.out_activation_ != "logistic" or model.n_outputs_ != len(model.classes_):
            raise ValueError(
                "FluCoMa's classifier has one sigmoid output per label; this classifier has "
                f"{model.n_outputs_} {model.out_activation_} output(s) for {len(model.classes_)} classes. Train it with"
                " loss='squared_error' (3 or more classes), or use mlpkit.flucoma.MLPClassifier."
            )
        return flucoma_model.classifier_to_dict(layers, [str(c) for c in model.classes_])
    return flucoma_model.regressor_to_dict(layers)


def core_layers(model) -> list[flucoma_model.Layer]:
    """FluCoMa layers of a fitted ``mlpkit.MLPRegressor`` or ``MLPClassifier``; a clear error where FluCoMa
    cannot express the network."""
    if not hasattr(model, "coefs_"):
        raise ValueError(f"{type(model).__name__} is not fitted: fit it before exporting to FluCoMa.")
    for attribute, what in (("batch_norm_", "batch normalisation"), ("prelu_slopes_", "learned prelu slopes")):
        if hasattr(model, attribute):
            raise ValueError(f"FluCoMa's MLP has no {what}; this network cannot be written as a FluCoMa model.")
    n = len(model.coefs_)
    activations = [model.activation] * (n - 1) + [model.out_activation_]
    for index, name in enumerate(activations):
        name = {"sigmoid": "logistic"}.get(name, name)
        if name not in flucoma_model.ACTIVATION_CODES:
            raise ValueError(
                f"layer {index} uses activation {name!r}, which FluCoMa does not have (it has identity, sigmoid,"
                " relu, tanh)."
            )
        activations[index] = name
    return [flucoma_model.Layer(np.asarray(W, float), np.asarray(b, float), a) for W, b, a in zip(model.coefs_, model.intercepts_, activations)]


def write_model(model, path) -> None:
    """Write any fitted mlpkit model as a FluCoMa model file (atomically); see :func:`to_flucoma_dict`."""
    write_json(path, to_flucoma_dict(model))

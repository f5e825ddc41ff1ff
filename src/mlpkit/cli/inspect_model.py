"""``mlpkit inspect MODEL``: what a saved model is: its layers, parameters and training history.

Prints the layers (units, activation, trained parameters per layer), the
scalers before and after the network (a model ``mlpkit fit`` scaled), the network's
parameters that differ from the defaults, the classes or outputs, the input
columns, and a summary of the training history (epochs, losses, validation
scores, the learning rate from start to end, how training ended).
"""

from __future__ import annotations

from . import options, report

HELP = "describe a saved model: layers, activations, parameter count, training history"

#: The public module of each scikit-learn wrapper a model file can hold.
WRAPPER_MODULES = {"Pipeline": "sklearn.pipeline", "TransformedTargetRegressor": "sklearn.compose"}

#: Classes and feature names listed up to this many.
MAX_LISTED = 12


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file (mlpkit fit --out, or a FluCoMa MLP JSON)")


def run(args) -> int:
    from .. import _wrappers

    model = options.load_model(args.model)
    net = options.network(model)
    console = report.console()
    fitted = hasattr(net, "coefs_")
    package = type(model).__module__.rsplit(".", 1)[0]  # mlpkit, or mlpkit.flucoma
    package = WRAPPER_MODULES.get(type(model).__name__, package)
    console.print(f"[bold]{package}.{type(model).__name__}[/bold]"
                  f" from {args.model}" + ("" if fitted else " (not fitted)"))
    if fitted:
        console.print(layers_table(net))
    if _wrappers.is_wrapper(model):
        console.print(report.key_value_table("Steps", steps_summary(model)))
    console.print(report.key_value_table("Parameters set", changed_params(_wrappers.network_of(model, fitted=fitted))))
    if fitted:
        console.print(report.key_value_table("Data", data_summary(model, net)))
        history = history_summary(net)
        if history:
            console.print(report.key_value_table("Training history", history))
    return 0


def layers_table(net):
    """One row per layer of weights: units in and out, activation, parameter count."""
    from rich.table import Table

    table = Table(title=f"Layers ({net.n_parameters_:,} trained parameters)")
    for name, justify in (("layer", "left"), ("units", "right"), ("activation", "left"), ("parameters", "right")):
        table.add_column(name, justify=justify)
    n = len(net.coefs_)
    table.add_row("input", str(net.coefs_[0].shape[0]), "", "")
    for i, (W, b) in enumerate(zip(net.coefs_, net.intercepts_)):
        last = i == n - 1
        activation = net.out_activation_ if last else net.activation
        extra = _layer_extras(net, i) if not last else 0
        table.add_row("output" if last else f"hidden {i + 1}", str(W.shape[1]), str(activation), f"{W.size + b.size + extra:,}")
    return table


def _layer_extras(net, i) -> int:
    """Learned prelu slopes and batch-norm scale and shift of hidden layer ``i``."""
    import numpy as np

    count = 0
    slopes = getattr(net, "prelu_slopes_", None)
    if slopes is not None:
        count += np.size(slopes[i])
    batch_norm = getattr(net, "batch_norm_", None)
    if batch_norm is not None:
        count += np.size(batch_norm["scale"][i]) + np.size(batch_norm["shift"][i])
    return count


def steps_summary(model) -> dict:
    """What a saved Pipeline or TransformedTargetRegressor does before and after its network."""
    from .. import _wrappers

    rows = {}
    for i, step in enumerate(_wrappers.scalers_of(model)):
        if hasattr(step, "columns_"):  # the data preparation: what it does to which column
            from ..prep.report import choices

            rows.update({f"preparation: {label}": line for label, line in choices(step, "cli").items()})
        else:
            rows[f"input scaler {i + 1}"] = _scaler_text(step)
    rows["network"] = type(_wrappers.network_of(model)).__name__
    target = _wrappers.target_scaler_of(model)
    if target is not None or _wrappers.is_target_regressor(model):
        rows["target scaler"] = _scaler_text(target if target is not None else model.transformer)
    return rows


def _scaler_text(scaler) -> str:
    params = {k: v for k, v in scaler.get_params().items() if repr(v) != repr(type(scaler)().get_params()[k])}
    return type(scaler).__name__ + (f" ({', '.join(f'{k}={v!r}' for k, v in params.items())})" if params else "")


def changed_params(model) -> dict:
    """Parameter name -> value, for those that differ from a fresh estimator's."""
    defaults = type(model)().get_params(deep=False)
    params = model.get_params(deep=False)
    changed = {k: v for k, v in params.items() if repr(v) != repr(defaults.get(k))}
    return changed or {"(all defaults)": ""}


def data_summary(model, net) -> dict:
    rows = {"inputs": net.n_features_in_, "outputs": net.n_outputs_}
    from .preparing import input_names

    names = input_names(model)
    if names is not None:
        rows["input columns"] = _listed(names)
    classes = getattr(model, "classes_", None)
    classes = getattr(model, "labels_", None) if classes is None else classes
    if classes is not None:
        rows["classes"] = f"{len(classes)}: {_listed(classes)}"
    rows["dtype"] = str(net.coefs_[0].dtype)
    return rows


def _listed(items) -> str:
    import numpy as np

    items = [str(i) for i in np.asarray(items).ravel().tolist()]
    more = f", ... ({len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


def history_summary(net) -> dict:
    """Epochs, first and last loss, best validation, learning rates: what ``fit`` recorded."""
    import numpy as np

    loss = list(getattr(net, "loss_curve_", None) or [])
    rows = {}
    if not loss and not getattr(net, "n_iter_", 0):
        return {"(none)": "no training recorded: the weights came from a file"}
    if getattr(net, "n_iter_", None) is not None:
        rows["iterations" if net.solver == "lbfgs" else "epochs (last fit)"] = net.n_iter_
    if loss:
        rows["epochs recorded"] = len(loss)
        rows["training loss"] = f"{loss[0]:.4g} (first epoch) -> {loss[-1]:.4g} (last)"
    elif getattr(net, "loss_", None) is not None:
        rows["training loss"] = f"{net.loss_:.4g}"
    if getattr(net, "best_loss_", None) is not None and np.isfinite(net.best_loss_):
        rows["best training loss"] = f"{net.best_loss_:.4g}"
    validation = list(getattr(net, "validation_loss_curve_", None) or [])
    if validation:
        best = int(np.nanargmin(validation))
        rows["validation loss"] = f"best {validation[best]:.4g} at epoch {best + 1}, last {validation[-1]:.4g}"
    scores = list(getattr(net, "validation_scores_", None) or [])
    if scores:
        rows["validation score"] = f"best {max(scores):.4g} (the weights kept), last {scores[-1]:.4g}"
    rates = list(getattr(net, "learning_rate_curve_", None) or [])
    if rates:
        rows["learning rate"] = f"{rates[0]:.3g} -> {rates[-1]:.3g} (min {min(rates):.3g}, max {max(rates):.3g})"
    return rows

"""``--validation SHARE`` of ``mlpkit fit`` in memory: rows held out to stop training on, the best epoch kept.

By default a tenth of the training rows is held out (``early_stopping=True``): training stops once
the held-out loss has not improved for ``n_iter_no_change`` epochs, and the weights of its best
epoch are the model's. The loss is watched rather than the score, because a classifier's held-out
accuracy moves in steps and stops a fit while its loss still falls (the demo stopped at epoch 47
with the validation loss still falling); 20 epochs of patience and up to 500 epochs let it reach
its best. ``--validation 0`` trains on every row for ``max_iter`` epochs. A ``--set`` of any of
these parameters wins over the defaults here; with ``--stream`` the share is one of chunks
(``scale.py``).

Patience and ``max_iter`` count epochs, so an epoch must hold several updates for them to mean anything:
with scikit-learn's ``batch_size='auto'`` (200 rows) a table of under 200 training rows is one mini-batch, one
Adam step per epoch, and 20 epochs of patience are 20 small steps. On ISLR's Hitters (177 rows trained on,
20 held out) the fit stopped at epoch 32 with the training R^2 at 0.35 and scored R^2 0.31 on unseen rows
where scikit-learn's own MLP scored 0.68. ``batch_size`` therefore defaults to the rule ``mlpkit advise``
gives (``guide.sizing.suggest_batch_size``: about 10 updates per epoch, 8 to 200 rows), counted on the rows
trained on; from 2000 such rows on it is 200, as ``'auto'``.
"""

from __future__ import annotations

from .errors import CLIError

#: Share of the training rows held out when --validation is not given.
DEFAULT_SHARE = 0.1
#: What holding out rows sets, unless --set gives the parameter.
SETTINGS = {"early_stopping_monitor": "loss", "n_iter_no_change": 20, "max_iter": 500}


def overrides(share: float | None, settings) -> dict:
    """Estimator parameters for ``--validation share`` (None: the default share), leaving those given with
    ``--set`` (``settings``: its (name, value) pairs) to it."""
    given = dict(settings)
    explicit = share is not None
    share = DEFAULT_SHARE if share is None else share
    if given.get("solver") == "lbfgs":
        if explicit and share > 0:
            raise CLIError("--validation: solver='lbfgs' trains on all rows at once and has no epochs to stop on;"
                           " drop --validation or use --set solver=adam")  # fmt: skip
        return {}
    if "early_stopping" in given:
        if explicit and bool(given["early_stopping"]) != (share > 0):
            raise CLIError(
                f"--validation {share:g} and --set early_stopping={given['early_stopping']} disagree; give one of them"
            )
        if not given["early_stopping"]:
            return {}
    if share == 0:
        return {"early_stopping": False}
    chosen = {"early_stopping": True, "validation_fraction": share, **SETTINGS}
    return {name: value for name, value in chosen.items() if name not in given}


def batch_size(network, rows: int, settings) -> dict:
    """``{"batch_size": n}`` for ``network`` trained on ``rows`` training rows (its held-out share still to come
    off), by ``guide.sizing.suggest_batch_size``; {} when ``--set`` gives it (``settings``) or lbfgs has none."""
    if "batch_size" in dict(settings) or network.solver == "lbfgs":
        return {}
    from ..guide.sizing import suggest_batch_size

    trained = rows - int(round(rows * network.validation_fraction)) if network.early_stopping else rows
    return {"batch_size": suggest_batch_size(max(int(trained), 1))}


def batch_summary(network) -> str | None:
    """Rows per mini-batch, for the training table (None for lbfgs, which has none)."""
    if network.solver == "lbfgs":
        return None
    rows = "auto (at most 200)" if network.batch_size == "auto" else str(network.batch_size)
    return f"{rows} rows per update (about 10 updates per epoch by default; --set batch_size=N to choose)"


def summary(network) -> str:
    """What the held-out rows did, for the training table."""
    if not getattr(network, "early_stopping", False) or network.solver == "lbfgs":
        return "none: every row trained, the last epoch's weights kept (--validation 0.1 holds out a tenth)"
    curve = getattr(network, "validation_loss_curve_", None) or []
    scores = getattr(network, "validation_scores_", None) or []
    watched = "loss" if network.early_stopping_monitor == "loss" else "score"
    values = curve if watched == "loss" else scores
    text = f"{network.validation_fraction:.0%} of the training rows held out"
    if values:
        best = (min if watched == "loss" else max)(range(len(values)), key=values.__getitem__)
        text += f"; the best validation {watched} was at epoch {best + 1}, whose weights are kept"
    return text + " (--validation 0 to train on every row)"

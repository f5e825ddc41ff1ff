"""Search spaces: every accepted form, and errors that name the bad entry."""

import re

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlpkit import MLPClassifier
from mlpkit.experiments.space import FORMS, Choice, GridPoints, Range, combine, parse_space


class FixedTrial:
    """Stands in for an Optuna trial: suggests the first choice, or the low end of a range."""

    def __init__(self):
        self.params = {}

    def suggest_categorical(self, name, choices):
        assert all(isinstance(c, str) for c in choices)  # Optuna stores JSON primitives
        self.params[name] = choices[-1]
        return choices[-1]

    def suggest_float(self, name, low, high, log=False):
        self.params[name] = high
        return high

    suggest_int = suggest_float


def test_cli_strings_give_choices_ranges_and_log_ranges():
    space = parse_space(["learning_rate_init=log:1e-4:1e-1", "alpha=1e-5:1e-2", "batch_size=16:256",
                         "hidden_layer_sizes=choice:64/128/64,64", "activation=choice:relu/tanh",
                         "early_stopping=choice:True/False", "clip_norm=choice:None/1.0"])
    assert space.dimensions == (
        Range("learning_rate_init", 1e-4, 0.1, log=True), Range("alpha", 1e-5, 1e-2), Range("batch_size", 16, 256),
        Choice("hidden_layer_sizes", (64, 128, (64, 64))), Choice("activation", ("relu", "tanh")),
        Choice("early_stopping", (True, False)), Choice("clip_norm", (None, 1.0)),
    )
    assert space.dimensions[2].integer and not space.dimensions[1].integer
    trial = FixedTrial()
    params = space.suggest(trial)
    assert params["hidden_layer_sizes"] == (64, 64) and params["clip_norm"] == 1.0 and params["batch_size"] == 256
    assert space.decode(trial.params) == params  # from Optuna's record back to the estimator's values


def test_python_dicts_and_scikit_learn_grids():
    space = parse_space({"alpha": {"low": 1e-6, "high": 1e-2, "log": True}, "hidden_layer_sizes": [(32,), (64, 32)]})
    assert space.dimensions == (Range("alpha", 1e-6, 1e-2, True), Choice("hidden_layer_sizes", ((32,), (64, 32))))
    grid = parse_space([{"solver": ["adam"], "learning_rate_init": [0.001, 0.01]}, {"solver": ["sgd"], "momentum": [0.5, 0.9]}])
    [points] = grid.dimensions
    assert isinstance(points, GridPoints) and len(points.points) == 4
    assert set(grid.names) == {"solver", "learning_rate_init", "momentum"}
    trial = FixedTrial()
    assert grid.suggest(trial) in [dict(p) for p in points.points] and grid.decode(trial.params) == grid.suggest(trial)
    both = combine([{"alpha": [0.1, 0.2]}, ["activation=choice:relu/tanh"]])
    assert both.names == ["alpha", "activation"]


@pytest.mark.parametrize(
    "spec, named",
    [
        (["alpha"], "'alpha'"),
        (["alpha=lots"], "'alpha=lots'"),
        (["alpha=1:2:3"], "'alpha=1:2:3'"),
        (["alpha=log:0:1"], "'alpha=log:0:1'"),
        (["alpha=0.5:0.1"], "'alpha=0.5:0.1'"),
        (["alpha=1e-3:inf"], "'alpha=1e-3:inf'"),
        (["activation=choice:relu//tanh"], "'activation=choice:relu//tanh'"),
        (["activation=choice:relu/relu"], "'activation=choice:relu/relu'"),
        ({"alpha": {"low": 1, "hi": 2}}, "'alpha'"),
        ({"alpha": []}, "'alpha'"),
        ({"alpha": 0.1}, "'alpha'"),
        ([{"alpha": 0.1}], "'alpha'"),
    ],
)
def test_a_malformed_entry_is_named_with_the_accepted_forms(spec, named):
    with pytest.raises(ValueError) as error:
        parse_space(spec)
    assert f"entry {named}" in str(error.value)
    message = str(error.value)
    assert "LOW < HIGH" in message or FORMS in message or "given twice" in message


def test_the_same_parameter_twice_and_an_empty_space_are_errors():
    with pytest.raises(ValueError, match="'alpha' is given 2 times"):
        parse_space(["alpha=0.1:0.2", "alpha=choice:0.1/0.2"])
    with pytest.raises(ValueError, match="the search space is empty"):
        parse_space({})


def test_unknown_parameters_are_named_with_the_valid_ones():
    space = parse_space(["learning_rate_int=log:1e-4:1e-1"])
    with pytest.raises(ValueError, match=r"MLPClassifier has no parameter 'learning_rate_int' \(did you mean"
                                         r" 'learning_rate_init'\?\); its parameters: activation, alpha,"):
        space.check(MLPClassifier())
    pipeline = make_pipeline(StandardScaler(), MLPClassifier())
    parse_space(["mlpclassifier__alpha=1e-5:1e-2"]).check(pipeline)  # a Pipeline's step__param names
    with pytest.raises(ValueError, match="StandardScaler > MLPClassifier has no parameter 'alpha'"):
        parse_space(["alpha=1e-5:1e-2"]).check(pipeline)


@pytest.mark.parametrize(
    "entry, message",
    [
        ("activation=choice:relu|tanh", "separate choices with '/', not '|' (in a shell '|' is a pipe),"
                                        " e.g. activation=choice:relu/tanh"),
        ("activation=choice:relu;tanh", "not ';' (in a shell ';' is the end of a command)"),
        ("hidden_layer_sizes=choice:64", "a single choice searches nothing; give two or more separated by '/'"),
    ],
)
def test_shell_separators_and_what_an_unquoted_pipe_leaves_are_refused(entry, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_space([entry])


def test_a_one_value_list_in_python_or_json_is_still_a_fixed_choice():
    assert parse_space({"activation": ["tanh"]}).dimensions[0].values == ("tanh",)

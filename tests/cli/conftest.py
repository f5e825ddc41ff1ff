"""Data files and a trained model for the ``mlpkit`` command's tests, and a way to run it in-process."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import QUICK, write_csv
from sklearn.datasets import load_diabetes, load_iris

from mlpkit.cli import main


class Result:
    """Exit code and captured output of one ``mlpkit`` run."""

    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    @property
    def error_lines(self):
        return [line for line in self.err.splitlines() if line.startswith("mlpkit: error:")]

    def __repr__(self):
        return f"Result(code={self.code}, err={self.err!r})"


@pytest.fixture
def mlpkit_cli(capsys):
    """``mlpkit_cli("fit", "data.csv", ...)`` runs ``mlpkit.cli.main`` and returns a Result."""

    def run(*argv):
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """iris.csv (species as text), diabetes.csv, and the same data as .tsv, .npy, .npz, FluCoMa JSON."""
    directory = tmp_path_factory.mktemp("data")
    iris = load_iris()
    species = iris.target_names[iris.target]
    header = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    write_csv(directory / "iris.csv", header + ["species"], [[*map(float, x), s] for x, s in zip(iris.data, species)])
    with open(directory / "iris.tsv", "w") as file:
        file.write("\t".join(header + ["species"]) + "\n")
        file.writelines("\t".join([*map(str, x), s]) + "\n" for x, s in zip(iris.data, species))
    np.save(directory / "iris.npy", np.column_stack([iris.data, iris.target]))
    np.savez(directory / "iris.npz", X=iris.data, y=iris.target)
    ids = [f"flower-{i}" for i in range(len(iris.data))]
    (directory / "iris-dataset.json").write_text(json.dumps({"cols": 4, "data": {i: list(map(float, x)) for i, x in zip(ids, iris.data)}}))
    (directory / "iris-labelset.json").write_text(json.dumps({"cols": 1, "data": {i: [str(s)] for i, s in zip(ids, species)}}))
    diabetes = load_diabetes()
    names = [f"x{k}" for k in range(diabetes.data.shape[1])]
    write_csv(directory / "diabetes.csv", names + ["progression"], [[*x, t] for x, t in zip(diabetes.data, diabetes.target)])
    return directory


@pytest.fixture(scope="session")
def iris_model(data_dir, tmp_path_factory) -> Path:
    """A classifier trained by ``mlpkit fit`` on iris.csv."""
    path = tmp_path_factory.mktemp("models") / "iris.npz"
    assert main(["fit", str(data_dir / "iris.csv"), "--target", "species", "--out", str(path), *QUICK]) == 0
    return path


@pytest.fixture(scope="session")
def diabetes_model(data_dir, tmp_path_factory) -> Path:
    """A regressor trained by ``mlpkit fit`` on diabetes.csv."""
    path = tmp_path_factory.mktemp("models") / "diabetes.npz"
    argv = ["fit", str(data_dir / "diabetes.csv"), "--target", "progression", "--out", str(path), *QUICK,
            "--set", "learning_rate_init=0.05"]
    assert main(argv) == 0
    return path

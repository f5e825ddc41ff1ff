"""``mlpkit predict MODEL DATA [--out FILE]``: predictions of a saved model, one per row of DATA.

Output by the suffix of ``--out`` (``WRITERS``), or without ``--out`` on stdout in
the input's kind: FluCoMa JSON in, FluCoMa JSON out (a LabelSet of labels from a
classifier, a DataSet of values from a regressor, under the input's identifiers);
anything else gives CSV with a ``prediction`` column (``prediction_0``... for
several outputs) and, with ``--proba``, a ``proba_<class>`` column per class.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from .._files import write_atomically
from . import options, preparing, report
from .errors import CLIError

HELP = "predict with a saved model (CSV out; FluCoMa JSON in gives FluCoMa JSON out)"

EPILOG = """examples:
  mlpkit predict iris.npz new-flowers.csv --out predictions.csv
  mlpkit predict iris.npz new-flowers.csv --proba            (CSV on stdout, with probabilities)
  mlpkit predict model.npz features.json --out labels.json   (FluCoMa DataSet in, LabelSet out)"""


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file (mlpkit fit --out, or a FluCoMa MLP JSON)")
    options.add_data_arguments(parser, target="none")
    parser.add_argument("--out", metavar="FILE", help="write here (.csv, or .json for FluCoMa); default: stdout")
    parser.add_argument("--proba", action="store_true", help="add class probabilities (classifiers, CSV output)")


def run(args) -> int:
    with preparing.notes():  # (a level never seen in training: a note, not a traceback)
        return _run(args)


def _run(args) -> int:
    model = options.load_model(args.model)
    data = options.read_for_model(model, args.data, drop=options.drop_list(args))
    predicted = report.predictions(model, data.X)
    columns = _columns(model, data.X, predicted, args.proba)
    kind = _output_kind(args.out, data)
    text = WRITERS[kind](model, data, predicted, columns)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        write_atomically(Path(args.out), text.encode("utf-8"))
    except OSError as error:
        raise CLIError(f"--out {args.out}: cannot write the predictions: {error.strerror or error}") from None
    report.note(f"{len(predicted)} predictions written to {args.out}")
    return 0


def _output_kind(out, data) -> str:
    if out is None:
        return "flucoma" if data.format == "flucoma" else "csv"
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        raise CLIError(f"--out {out}: write predictions to a {' or '.join(SUFFIXES)} file")
    return SUFFIXES[suffix]


def _columns(model, X, predicted, proba: bool) -> dict:
    """Output column name -> values: the predictions, then (``--proba``) the probabilities."""
    import numpy as np

    values = predicted.reshape(len(predicted), -1)
    names = ["prediction"] if values.shape[1] == 1 else [f"prediction_{k}" for k in range(values.shape[1])]
    columns = {name: values[:, k] for k, name in enumerate(names)}
    if proba:
        if not options.is_classifier(model):
            raise CLIError("--proba: this model is a regressor; probabilities come from classifiers")
        with options.columns_checked_by_name():
            probabilities = np.asarray(model.predict_proba(X)).reshape(len(X), -1)
        classes = getattr(model, "classes_", None)
        classes = getattr(model, "labels_", None) if classes is None else classes
        for k in range(probabilities.shape[1]):
            label = classes[k] if classes is not None and np.ndim(classes) == 1 and k < len(classes) else k
            columns[f"proba_{label}"] = probabilities[:, k]
    return columns


def _cell(value) -> str:
    import numpy as np

    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value.item() if isinstance(value, np.generic) else value)


def write_csv(model, data, predicted, columns) -> str:
    """CSV text: a header, then one row per input row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(columns))
    for row in zip(*columns.values()):
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def write_flucoma(model, data, predicted, columns) -> str:
    """FluCoMa JSON: a LabelSet (classifier) or DataSet (regressor) under the input's identifiers."""
    import numpy as np

    from ..flucoma import DataSet, LabelSet
    from ..flucoma.jsonio import dumps

    ids = data.ids or [f"row-{i}" for i in range(len(predicted))]
    if options.is_classifier(model):
        if predicted.ndim != 1:
            raise CLIError("a FluCoMa LabelSet holds one label per point; this classifier predicts several: use --out FILE.csv")
        points = LabelSet.from_numpy(ids, np.asarray([str(p) for p in predicted]))
    else:
        points = DataSet.from_numpy(ids, predicted.reshape(len(predicted), -1).astype(float))
    return dumps(points.to_dict())


#: Output kind -> writer(model, data, predicted, columns) -> text.
WRITERS = {"csv": write_csv, "flucoma": write_flucoma}

#: --out suffix -> output kind.
SUFFIXES = {".csv": "csv", ".json": "flucoma"}

"""``--autosave DIR``: every served model and its points on disk, written atomically, read back at start.

For a model ``NAME`` the directory holds::

    NAME.mlpkit          the estimator in mlpkit's format (mlpkit.save): weights, optimiser
                         state and parameters, so a restarted server trains on exactly
    NAME.json            FluCoMa's model JSON (FluCoMa's `read` loads it), once trained
    NAME.inputs.json     the points' inputs, a FluCoMa DataSet
    NAME.targets.json    their targets, a FluCoMa DataSet (regressor) or LabelSet (classifier)

Each file is written through a temporary file and ``os.replace`` (``mlpkit.save``,
``flucoma.write_json``), so a crash mid-write leaves the previous file whole.
The server writes a model's files after each of its fits and when it stops; the
points only when they changed since they were last written.
"""

from __future__ import annotations

from pathlib import Path

from .. import io
from ..flucoma import DataSet, write_json
from .served import KINDS, kind_of

#: What each file holds -> its name's suffix after the model's name.
SUFFIXES = {"model": ".mlpkit", "flucoma": ".json", "inputs": ".inputs.json", "targets": ".targets.json"}


class Autosave:
    """Writes and reads back the served models in ``directory`` (created if missing)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OSError(f"--autosave {directory}: cannot create the directory ({error.strerror or error})") from None
        self._saved_points: dict[str, int] = {}  # name -> points_version last written

    def path(self, name: str, what: str) -> Path:
        return self.directory / f"{name}{SUFFIXES[what]}"

    def save(self, model) -> None:
        """Write ``model``'s estimator (both formats) and, if they changed, its points. Call it only while no
        fit of that model runs (or from the fit thread, between fits)."""
        estimator = model.estimator
        io.save(estimator, self.path(model.name, "model"))
        if model.predictor is not None:
            estimator.write(self.path(model.name, "flucoma"))
        version = model.points_version
        if self._saved_points.get(model.name) != version:
            inputs, targets = model.points_as_dicts()
            write_json(self.path(model.name, "inputs"), inputs)
            write_json(self.path(model.name, "targets"), targets)
            self._saved_points[model.name] = version

    def remove(self, name: str) -> None:
        """Delete a model's files (``/mlp/delete``)."""
        for what in SUFFIXES:
            self.path(name, what).unlink(missing_ok=True)
        self._saved_points.pop(name, None)

    def saved(self) -> list[tuple[str, object, object, object]]:
        """``(name, estimator, inputs, targets)`` for every model saved here, by name; inputs/targets None if
        their files are missing. A damaged file raises the loader's error, naming it."""
        found = []
        for path in sorted(self.directory.glob("*" + SUFFIXES["model"])):
            name = path.name[: -len(SUFFIXES["model"])]
            estimator = io.load(path)
            kind_of(estimator)  # TypeError for a core model someone put here
            points = []
            for what, cls in (("inputs", DataSet), ("targets", KINDS[kind_of(estimator)][1])):
                file = self.path(name, what)
                points.append(cls.read(file) if file.exists() else None)
            found.append((name, estimator, *points))
        return found

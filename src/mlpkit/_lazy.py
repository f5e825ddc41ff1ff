"""A package's public names, imported from their modules when first used (PEP 562).

``import mlpkit`` (or ``mlpkit.guide``, ``mlpkit.experiments``, ...) then costs almost nothing,
and the command line's ``--help`` answers without importing JAX or scikit-learn. A package lists
its names in a table, name -> module relative to the package::

    _PUBLIC = {"advise": ".advice", "lr_find": ".lr_finder"}
    __getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
    __all__ = sorted(_PUBLIC)

(``tests/test_imports.py`` reads these ``_PUBLIC`` tables as imports when it looks for cycles.)
"""

from __future__ import annotations

from importlib import import_module


def lazy_exports(package: str, public: dict[str, str]):
    """The ``__getattr__`` and ``__dir__`` of ``package`` for the names of ``public``."""
    namespace = import_module(package).__dict__

    def __getattr__(name):
        if name not in public:
            return _submodule(package, name)
        value = getattr(import_module(public[name], package), name)
        namespace[name] = value  # later look-ups find it without this function
        return value

    def __dir__():
        return sorted({*namespace, *public})

    return __getattr__, __dir__


def _submodule(package: str, name: str):
    """``package.name`` as a submodule, imported now (``mlpkit.guide.evidence`` works without importing it
    first, as it did when the package imported every module up front); AttributeError if there is none."""
    try:
        return import_module(f"{package}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{package}.{name}":
            raise  # (the submodule exists but imports something missing: say that, not "no attribute")
        raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

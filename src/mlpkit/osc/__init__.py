"""Live training and prediction over OSC, for Max, Pure Data and SuperCollider: ``mlpkit serve``.

>>> server = mlpkit.osc.serve()     # doctest: +SKIP   UDP on 127.0.0.1:57130, in a background thread
>>> server.close()                  # doctest: +SKIP

The server holds named FluCoMa-style models (``mlpkit.flucoma.MLPRegressor`` /
``MLPClassifier``) and their points, and answers these messages (replies go to the
sender's address and port, or to ``reply_port``):

=====================================================  ==========================================
message                                                reply
=====================================================  ==========================================
``/mlp/create NAME regressor|classifier [hidden ...]`` ``/mlp/created NAME``
``/mlp/set NAME PARAM VALUE ...``                      ``/mlp/set NAME PARAM VALUE ...``
``/mlp/get NAME PARAM``                                ``/mlp/get NAME PARAM VALUE ...``
``/mlp/point NAME ID x1 ... xn y1 ... ym`` (regressor) ``/mlp/points NAME COUNT``
``/mlp/point NAME ID x1 ... xn LABEL`` (classifier)    ``/mlp/points NAME COUNT``
``/mlp/clear NAME``                                    ``/mlp/points NAME 0``
``/mlp/dataset NAME PATH``                             ``/mlp/points NAME COUNT``
``/mlp/targets NAME PATH`` / ``/mlp/labelset ...``     ``/mlp/points NAME COUNT``
``/mlp/fit NAME``                                      ``/mlp/fit NAME ERROR`` when it ends
                                                       (``/mlp/queued NAME`` / ``/mlp/busy NAME``
                                                       at once while one runs; ``/mlp/epoch NAME
                                                       EPOCH LOSS`` with ``progress``)
``/mlp/stop NAME``                                      ``/mlp/stopping NAME``, then the fit's reply
``/mlp/predict NAME x1 ... xn``                        ``/mlp/predict NAME y1 ... ym`` or ``LABEL``
``/mlp/write NAME PATH.json``                          ``/mlp/written NAME PATH``
``/mlp/read NAME PATH``                                ``/mlp/read NAME PATH``
``/mlp/reset NAME``                                    ``/mlp/reset NAME``
``/mlp/delete NAME``                                   ``/mlp/deleted NAME``
``/mlp/models``                                        ``/mlp/models NAME ...``
anything wrong                                         ``/mlp/error NAME MESSAGE``
=====================================================  ==========================================

- ``params.py``: what ``/mlp/set`` accepts (FluCoMa's names and the estimators' own);
- ``messages.py``: one function per address, and the table of them;
- ``served.py``: one model, its points, background fits beside predictions;
- ``watch.py``: the callback a fit runs with (epochs, dashboard, stop);
- ``autosave.py``: the models and points on disk (``--autosave DIR``);
- ``server.py``: the socket, python-osc's packets, replies, errors, stopping.
"""

from .._lazy import lazy_exports
from .defaults import DEFAULT_HOST, DEFAULT_PORT

#: Public name -> its module here, imported when first used (``_lazy.py``).
_PUBLIC = {"OSCServer": ".server", "serve": ".server"}
__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", *_PUBLIC]  # noqa: PLE0604 (the table's names are strings)

"""A yardstick for mlpkit.flucoma: flucoma-core's SGD loop replicated in numba, written apart from mlpkit.

It follows flucoma-core's ``SGD::train`` / ``MLP`` / ``NNLayer`` structure as it is written: per batch,
the batch's rows gathered into matrices, a forward pass layer by layer (``Z = H W + b``, ``H' = act(Z)``),
``D = 2 (P - Y)`` backpropagated (``D *= act'(H')``, ``grad W = H^T D / rows``, ``grad b = mean D``,
``D <- D W^T``), then every layer's damped-momentum update ``u = m u + (1 - m) lr g``, ``W -= u``.
Each epoch reshuffles the training rows; batches of ``min(batch_size, n)`` rows with the remainder on the
first; validation rows (``validation > 0``) are held back and stop the fit after 10 epochs in a row whose
validation loss is not below the previous epoch's. Returns FluCoMa's error: the loss over the training
rows. numba's matrix products call BLAS as Eigen's do, so it costs about what the C++ core costs (the issue
that asked for it measured this approach within 10 % of the real core).

    from flucoma_replica import Replica
    replica = Replica([2, 8, 3], hidden=2, output=0, seed=0)
    error = replica.fit(X, Y, epochs=10, batch_size=50, learn_rate=0.01, momentum=0.9, validation=0.0)
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _activation(Z, code):
    if code == 1:
        return 1.0 / (1.0 + np.exp(-Z))
    if code == 2:
        return np.maximum(Z, 0.0)
    if code == 3:
        return np.tanh(Z)
    return Z.copy()


@njit(cache=True)
def _derivative(H, code):
    if code == 1:
        return H * (1.0 - H)
    if code == 2:
        return (H > 0.0) * 1.0
    if code == 3:
        return 1.0 - H * H
    return np.ones_like(H)


@njit(cache=True)
def _forward(Ws, bs, codes, X):
    hs = [X]
    for layer in range(len(Ws)):
        hs.append(_activation(hs[-1] @ Ws[layer] + bs[layer], codes[layer]))
    return hs


@njit(cache=True)
def _loss(Ws, bs, codes, X, Y):
    P = _forward(Ws, bs, codes, X)[-1]
    return ((P - Y) ** 2).sum() / X.shape[0]


@njit(cache=True)
def _seed(seed):
    np.random.seed(seed)


@njit(cache=True)
def _fit(Ws, bs, uWs, ubs, codes, X, Y, Xv, Yv, epochs, batch_size, learn_rate, momentum):
    n = X.shape[0]
    batch = min(batch_size, n)
    extra = n % batch
    previous, patience = 1.7976931348623157e308, 10
    for _ in range(epochs):
        order = np.random.permutation(n)
        start = 0
        while start < n:
            rows = batch + extra if start == 0 else batch
            idx = order[start : start + rows]
            hs = _forward(Ws, bs, codes, X[idx])
            D = 2.0 * (hs[-1] - Y[idx])
            gWs, gbs = [], []
            for layer in range(len(Ws) - 1, -1, -1):
                D = D * _derivative(hs[layer + 1], codes[layer])
                gWs.append((1.0 / rows) * (hs[layer].T @ D))
                gbs.append(D.sum(axis=0) / rows)
                D = D @ Ws[layer].T
            for layer in range(len(Ws)):
                g = len(Ws) - 1 - layer
                uWs[layer][:] = momentum * uWs[layer] + (1.0 - momentum) * learn_rate * gWs[g]
                ubs[layer][:] = momentum * ubs[layer] + (1.0 - momentum) * learn_rate * gbs[g]
                Ws[layer][:] = Ws[layer] - uWs[layer]
                bs[layer][:] = bs[layer] - ubs[layer]
            start += rows
        if Xv.shape[0] > 0:
            loss = _loss(Ws, bs, codes, Xv, Yv)
            patience = 10 if loss < previous else patience - 1
            if patience <= 0:
                break
            previous = loss
    return _loss(Ws, bs, codes, X, Y)


class Replica:
    """A FluCoMa MLP (its layer sizes, hidden and output activation codes) trained by the replica loop."""

    def __init__(self, sizes, hidden=2, output=0, seed=0):
        rng = np.random.default_rng(seed)
        Ws = [rng.uniform(-1, 1, (a, b)) * np.sqrt(6.0 / (a + b)) for a, b in zip(sizes[:-1], sizes[1:])]
        bs = [np.zeros(b) for b in sizes[1:]]
        # numba's typed lists, made once (the arrays change in place): the loop's own cost, as in C++
        self.Ws, self.bs = self._typed(Ws), self._typed(bs)
        self.uWs, self.ubs = self._typed([np.zeros_like(W) for W in Ws]), self._typed([np.zeros_like(b) for b in bs])
        self.codes = np.array([hidden] * (len(sizes) - 2) + [output], np.int64)
        self.rng = rng
        _seed(seed)

    def as_flucoma_json(self) -> dict:
        """The network as FluCoMa's model JSON (``MLPRegressor.read`` takes it): start mlpkit from the same weights."""
        return {"layers": [{"activation": int(code), "biases": b.tolist(), "cols": W.shape[1], "rows": W.shape[0],
                            "weights": W.tolist()} for W, b, code in zip(self.Ws, self.bs, self.codes)]}  # fmt: skip

    def fit(self, X, Y, epochs, batch_size, learn_rate, momentum, validation=0.0):
        n_train = int(np.rint((1 - validation) * len(X)))
        order = self.rng.permutation(len(X)) if n_train < len(X) else np.arange(len(X))
        train, val = order[:n_train], order[n_train:]
        return _fit(self.Ws, self.bs, self.uWs, self.ubs, self.codes, X[train], Y[train], X[val], Y[val], epochs, batch_size, learn_rate, momentum)  # fmt: skip

    @staticmethod
    def _typed(arrays):
        from numba.typed import List

        typed = List()
        for a in arrays:
            typed.append(a)
        return typed

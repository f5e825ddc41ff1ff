"""PyTorch (eager, CPU) doing the same work as an mlpkit / scikit-learn MLP fit.

Same layer sizes, ReLU hidden layers, cross-entropy (classification) or squared
error (regression), the same optimiser (SGD with Nesterov momentum, or Adam),
learning rate, batch size, epochs and shuffling every epoch. Only the L2 penalty
differs slightly (scikit-learn divides alpha by the batch's size): it is tiny
(1e-4) and costs the same either way. Used by ``compare.py`` only; torch is a
benchmark peer, never a dependency (``pip install .[bench]``).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn


def make_mlp(n_in, hidden, n_out):
    layers, width = [], n_in
    for units in hidden:
        layers += [nn.Linear(width, units), nn.ReLU()]
        width = units
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


OPTIMIZERS = {
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr, weight_decay=1e-4),
}


def fit(X, y, hidden, *, solver, lr, batch_size, epochs, classify=True, seed=0):
    """Train a fresh network; returns (model, seconds of training)."""
    torch.manual_seed(seed)
    X_t = torch.as_tensor(np.asarray(X, np.float32))
    y_t = torch.as_tensor(y, dtype=torch.long) if classify else torch.as_tensor(np.asarray(y, np.float32)).reshape(len(X), -1)
    n_out = int(y_t.max()) + 1 if classify else y_t.shape[1]
    model = make_mlp(X_t.shape[1], hidden, n_out)
    optimizer = OPTIMIZERS[solver](model.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss() if classify else nn.MSELoss()
    started = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(X_t))
        for start in range(0, len(X_t), batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad()
            loss_fn(model(X_t[rows]), y_t[rows]).backward()
            optimizer.step()
    return model, time.perf_counter() - started


@torch.no_grad()
def predict(model, X):
    return model(torch.as_tensor(np.asarray(X, np.float32))).numpy()


def accuracy(model, X, y):
    return float((predict(model, X).argmax(1) == np.asarray(y)).mean())

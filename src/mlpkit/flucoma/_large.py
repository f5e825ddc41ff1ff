"""FluCoMa's SGD for larger networks in JAX: ``training.py``'s rules on whole batches, compiled.

The same arithmetic as ``_small.py`` (and flucoma-core), in matrix form: per batch
``H_{l+1} = act(H_l W_l + b_l)``, ``D = 2 (P - Y) act'(P)``, ``grad W_l = H_l^T D / rows``,
``grad b_l = sum D / rows``, ``D <- (D W_l^T) act'(H_l)``, then damped momentum. Each
compiled call runs a chunk of epochs (a ``lax.while_loop`` over epochs around a
``lax.fori_loop`` over batches) on parameters and velocities as flat buffers; the
epochs' orders are ``_small.orders`` of the chunk's random numbers, as ``_small.train``
makes them, so both backends see the same batches.

Every batch is computed ``B + n_train % B`` rows wide (the first, FluCoMa's, holds the
remainder), the others masked to their ``B`` rows. A program is compiled for each network,
batch size, number of training rows and chunk length (a power of two), and reused by the
fits that share them.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import _small

_ACTIVATE = {
    _small.IDENTITY: lambda z: z,
    _small.SIGMOID: lambda z: 1.0 / (1.0 + jnp.exp(-z)),
    _small.RELU: lambda z: jnp.maximum(z, 0.0),
    _small.TANH: jnp.tanh,
}
_SLOPE = {  # from the activation's output, as NNActivations::derivative
    _small.IDENTITY: lambda h: jnp.ones_like(h),
    _small.SIGMOID: lambda h: h * (1.0 - h),
    _small.RELU: lambda h: (h > 0.0).astype(h.dtype),
    _small.TANH: lambda h: 1.0 - h * h,
}


def _layers(flat, sizes):
    """``[(W, b), ...]`` sliced from the flat buffer (``training.Layout``)."""
    layers, at = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = flat[at : at + n_in * n_out].reshape(n_in, n_out)
        at += n_in * n_out
        layers.append((W, flat[at : at + n_out]))
        at += n_out
    return layers


def _forward(flat, X, sizes, codes):
    """Every layer's input and the output: ``[X, H_1, ..., P]``."""
    hs = [X]
    for (W, b), code in zip(_layers(flat, sizes), codes):
        hs.append(_ACTIVATE[code](hs[-1] @ W + b))
    return hs


def _loss(flat, X, Y, sizes, codes):
    return jnp.sum((_forward(flat, X, sizes, codes)[-1] - Y) ** 2) / X.shape[0]


def _gradient(flat, X, Y, real, rows, sizes, codes):
    """(flat gradient, summed squared error) of one batch; ``real`` masks its rows, ``rows`` counts them."""
    hs = _forward(flat, X, sizes, codes)
    residual = (hs[-1] - Y) * real[:, None]
    D = 2.0 * residual * _SLOPE[codes[-1]](hs[-1])
    scale = 1.0 / rows
    parts = []
    layers = _layers(flat, sizes)
    for index in range(len(layers) - 1, -1, -1):
        W, _ = layers[index]
        parts.append(jnp.sum(D, axis=0) * scale)
        parts.append(((hs[index].T @ D) * scale).ravel())
        if index > 0:
            D = (D @ W.T) * _SLOPE[codes[index - 1]](hs[index])
    return jnp.concatenate(parts[::-1]), jnp.sum(residual * residual)


@partial(jax.jit, static_argnames=("sizes", "codes", "batch"))
def _epochs(flat, velocity, X, Y, X_val, Y_val, orders, epochs, learn_rate, momentum, previous, waiting, patience,
            *, sizes, codes, batch):  # fmt: skip
    """Up to ``epochs`` epochs (rows of ``orders``); returns the state, the epochs run and their curves."""
    n = X.shape[0]
    remainder = n % batch
    width = batch + remainder
    n_batches = n // batch
    step = (1.0 - momentum) * learn_rate
    curve = jnp.full(orders.shape[0], jnp.nan, X.dtype)

    def one_batch(b, carry):
        flat, velocity, order, loss_sum = carry
        start = jnp.where(b == 0, 0, width + (b - 1) * batch)
        rows = jnp.where(b == 0, width, batch)
        idx = jax.lax.dynamic_slice(order, (start,), (width,))
        real = (jnp.arange(width) < rows).astype(X.dtype)
        grad, squared = _gradient(flat, X[idx], Y[idx], real, rows.astype(X.dtype), sizes, codes)
        velocity = momentum * velocity + step * grad
        return flat - velocity, velocity, order, loss_sum + squared

    def one_epoch(carry):
        flat, velocity, e, previous, waiting, stopped, loss_curve, val_curve = carry
        order = jnp.concatenate([orders[e], jnp.zeros(remainder, orders.dtype)])  # the last slice stays in bounds
        flat, velocity, _, loss_sum = jax.lax.fori_loop(0, n_batches, one_batch, (flat, velocity, order, 0.0))
        loss = loss_sum / n
        stopped = ~jnp.isfinite(loss)
        loss_curve = loss_curve.at[e].set(loss)
        if X_val.shape[0]:
            val_loss = _loss(flat, X_val, Y_val, sizes, codes)
            val_curve = val_curve.at[e].set(val_loss)
            waiting = jnp.where(val_loss < previous, patience, waiting - 1)
            stopped |= waiting <= 0
            previous = val_loss
        return flat, velocity, e + 1, previous, waiting, stopped, loss_curve, val_curve

    carry = (flat, velocity, 0, previous, waiting, False, curve, curve)
    flat, velocity, ran, previous, waiting, _, loss_curve, val_curve = jax.lax.while_loop(
        lambda c: (c[2] < epochs) & ~c[5], one_epoch, carry
    )
    return flat, velocity, ran, previous, waiting, loss_curve, val_curve


_loss_compiled = jax.jit(_loss, static_argnames=("sizes", "codes"))


def _static(layout, batch_size, n):
    return dict(sizes=tuple(layout.sizes.tolist()), codes=tuple(layout.codes.tolist()), batch=min(batch_size, n))


def train(params, velocity, layout, X, Y, X_val, Y_val, uniforms, settings, carry, loss_curve, val_curve) -> int:
    """``training.Backend.epochs`` in JAX: the epochs of one chunk, in one compiled call."""
    epochs = uniforms.shape[0]
    orders = np.zeros((1 << (epochs - 1).bit_length(), X.shape[0]), np.int32)  # rows padded: few shapes to compile
    orders[:epochs] = _small.orders(uniforms)  # the same orders as _small.train makes
    with jax.enable_x64(True):
        flat, vel, ran, previous, waiting, losses, val_losses = _epochs(
            params, velocity, X, Y, X_val, Y_val, orders, epochs, settings.learn_rate, settings.momentum,
            carry[0], carry[1], settings.patience, **_static(layout, settings.batch_size, X.shape[0]),
        )  # fmt: skip
        ran = int(ran)
        params[:], velocity[:] = np.asarray(flat), np.asarray(vel)
    loss_curve[:ran] = np.asarray(losses)[:ran]
    val_curve[:ran] = np.asarray(val_losses)[:ran]
    carry[:] = float(previous), float(waiting)
    return ran


def loss(params, layout, X, Y) -> float:
    """FluCoMa's loss of the network on ``(X, Y)``, compiled."""
    static = _static(layout, 1, 1)
    with jax.enable_x64(True):
        return float(_loss_compiled(params, X, Y, sizes=static["sizes"], codes=static["codes"]))

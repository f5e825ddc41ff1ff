"""FluCoMa's SGD and forward pass, compiled with numba: hand-written loops for small networks, BLAS
products for the rest.

For a network of a few dozen weights, XLA's fixed cost per call (~0.14 ms) and per
operation is more than the training itself: flucoma-core trains 10 epochs of a
2 -> 8 -> 3 network on 200 points in ~0.3 ms. These kernels run the same rules as
the main training loop (``engine.RULES["flucoma"]``), as ``training.py`` defines them, on preallocated
scratch, with no allocation per batch:

- forward ``h_{l+1} = act_l(h_l @ W_l + b_l)``; FluCoMa's loss ``sum_k (pred_k - y_k)^2``
  per row, averaged over the rows of a batch;
- backward from the outputs ``d = 2 (pred - y) act'(pred)`` (``act'`` from the
  activation's output, as ``NNFuncs.hpp``), ``d_prev = (d @ W^T) act'(h)``; the
  gradients are sums over the batch divided by its rows (``NNLayer::backward``);
- FluCoMa's damped momentum ``v <- m v + (1 - m) lr g``, ``w <- w - v`` after each batch;
- each epoch's order of the rows is ``epoch_order``, counter-based (splitmix64 of the key,
  the epoch and the row), as the main loop's FluCoMa rules make it; the batches are
  FluCoMa's (``training.batch_bounds``), and with validation rows the stopping rule of
  ``SGD.hpp``: the validation loss against the previous epoch's, ``patience`` epochs.

One epoch loop (``train``) takes each batch one of two ways, ``products`` choosing
(``training.backend_for`` picks by the network's weights; the rest of the loop is shared):

- ``_batch_loops``: the batch held unit-major (units x rows), so the inner loops run along
  the rows and vectorise; no call per layer, which wins for a few hundred weights or fewer;
- ``_batch_products``: row-major ``rows x units`` blocks (the first ``rows * units`` numbers of
  a scratch slot, contiguous for any batch's rows), one BLAS product per layer and
  direction (``Z = H W``, ``grad W = H^T D``, ``D W^T``) as flucoma-core's Eigen code does,
  the weights and their gradients read and written as reshaped views of the flat buffers.

Parameters live in one flat float64 buffer, layer by layer ``[W_0
(row-major n_in x n_out), b_0, W_1, b_1, ...]`` (``training.Layout``); the velocities in another of
the same layout. ``nogil=True`` lets other threads run while a fit trains (an OSC server answers predictions
meanwhile); ``cache=True`` keeps the machine code in numba's cache, so only the
first process ever compiles (~15-30 s here; later processes load it in well under a
second: ``bench/README.md``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: FluCoMa's activation codes (``NNFuncs.hpp``: kLinear, kSigmoid, kReLU, kTanh).
IDENTITY, SIGMOID, RELU, TANH = 0, 1, 2, 3

#: ``prevValLoss``'s start in ``SGD.hpp``: the largest double.
LARGEST = np.finfo(np.float64).max


@njit(cache=True, nogil=True, inline="always")
def _activate(code, z):
    if code == SIGMOID:
        return 1.0 / (1.0 + math.exp(-z))
    if code == RELU:
        return z if z > 0.0 else 0.0
    if code == TANH:
        return math.tanh(z)
    return z


@njit(cache=True, nogil=True, inline="always")
def _slope(code, out):
    """The activation's derivative from its output (``NNActivations::derivative``)."""
    if code == SIGMOID:
        return out * (1.0 - out)
    if code == RELU:
        return 1.0 if out > 0.0 else 0.0
    if code == TANH:
        return 1.0 - out * out
    return 1.0


@njit(cache=True, nogil=True)
def _offsets(sizes):
    """Start of each layer's weights and biases in the flat buffer."""
    n_layers = sizes.shape[0] - 1
    w_at = np.empty(n_layers, np.int64)
    b_at = np.empty(n_layers, np.int64)
    at = 0
    for layer in range(n_layers):
        w_at[layer] = at
        at += sizes[layer] * sizes[layer + 1]
        b_at[layer] = at
        at += sizes[layer + 1]
    return w_at, b_at


#: Reassociation lets numba vectorise the sums over a batch's rows (the order of a sum's terms changes its
#: last bits only); no flag that assumes finite numbers, since a diverging fit must be seen.
FAST = {"reassoc", "contract"}


#: splitmix64's increment and mixing constants (Steele, Lea & Flood, "Fast splittable pseudorandom number
#: generators", OOPSLA 2014).
_GAMMA, _MIX_1, _MIX_2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


@njit(cache=True, nogil=True, inline="always")
def _splitmix64(key, counter):
    """``z = key + (counter + 1) GAMMA``, then splitmix64's mix of ``z`` (``engine.splitmix64`` in JAX)."""
    z = key + (counter + np.uint64(1)) * _GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def counter_uniforms(key, counters, out):
    """``out[...] = splitmix64(key, counter) / 2^64`` in [0, 1) (53 bits), for each of ``counters`` (uint64).
    Numba, not numpy: 12 numpy passes over a fit's numbers cost more than a tiny fit."""
    flat_counters, flat_out = counters.ravel(), out.ravel()
    for i in range(flat_counters.shape[0]):
        flat_out[i] = np.float64(_splitmix64(key, flat_counters[i]) >> np.uint64(11)) * 1.1102230246251565e-16  # 2^-53


@njit(cache=True, nogil=True)
def epoch_order(key, epoch, order, keys):
    """Epoch ``epoch``'s order of ``order.shape[0]`` rows into ``order``: the rows sorted by
    ``high32(splitmix64(key, epoch << 32 | i))``, ties by row (``engine.counter_order``, the main
    loop's FluCoMa rule, sorts the same keys). ``keys``: scratch of as many uint64.

    A least-significant-digit radix sort: four stable passes over the bytes of the 32-bit random
    parts, starting from row order, give the same order as sorting the keys, 2.5-4x faster than
    ``np.sort`` for 200 to 2000 rows.
    """
    n = order.shape[0]
    high = np.uint64(epoch) << np.uint64(32)
    for i in range(n):
        keys[i] = _splitmix64(key, high | np.uint64(i)) >> np.uint64(32)
        order[i] = i
    source, target = order, np.empty(n, np.int64)
    counts = np.empty(257, np.int64)
    for shift in range(0, 32, 8):  # (int64 digits: numba would mix uint64 and int64 in floats)
        counts[:] = 0
        for i in range(n):
            counts[((np.int64(keys[source[i]]) >> shift) & 255) + 1] += 1
        for digit in range(256):
            counts[digit + 1] += counts[digit]
        for i in range(n):
            digit = (np.int64(keys[source[i]]) >> shift) & 255
            target[counts[digit]] = source[i]
            counts[digit] += 1
        source, target = target, source  # (after four passes the sorted rows are back in ``order``)


@njit(cache=True, nogil=True)
def orders(key, first_epoch, epochs, n):
    """``(epochs, n)``: the orders of epochs ``first_epoch ..`` (``epoch_order``)."""
    out = np.empty((epochs, n), np.int64)
    keys = np.empty(n, np.uint64)
    for e in range(epochs):
        epoch_order(key, first_epoch + e, out[e], keys)
    return out


# ------------------------------------------------------------------ a batch in hand-written loops, unit-major
@njit(cache=True, nogil=True, fastmath=FAST)
def _forward_loops(params, sizes, codes, w_at, b_at, H, rows):
    """Layer by layer ``H[l + 1][j, i] = act(b_j + sum_k H[l][k, i] W[k, j])`` for the batch's ``rows`` columns.

    A batch is held unit-major (``H[l]`` is units x rows), so every inner loop runs along the rows."""
    for layer in range(sizes.shape[0] - 1):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        W, b, code = w_at[layer], b_at[layer], codes[layer]
        for j in range(n_out):
            out = H[layer + 1, j]
            bias = params[b + j]
            for i in range(rows):
                out[i] = bias
            for k in range(n_in):
                w = params[W + k * n_out + j]
                below = H[layer, k]
                for i in range(rows):
                    out[i] += w * below[i]
            for i in range(rows):
                out[i] = _activate(code, out[i])


@njit(cache=True, nogil=True, fastmath=FAST)
def _batch_loops(params, grad, sizes, codes, w_at, b_at, X, Y, batch, H, D):
    """The gradients of the batch of rows ``batch`` (of ``X``, ``Y``) into ``grad`` (sums over its rows), by
    hand-written loops on unit-major blocks (``H[l]``, ``D[.]``: units x rows); returns the batch's summed loss
    ``sum_i sum_k (pred - y)^2``."""
    n_layers, rows = sizes.shape[0] - 1, batch.shape[0]
    n_in, n_out = sizes[0], sizes[n_layers]
    for i in range(rows):
        for k in range(n_in):
            H[0, k, i] = X[batch[i], k]
    _forward_loops(params, sizes, codes, w_at, b_at, H, rows)
    out_code = codes[n_layers - 1]
    loss_sum = 0.0
    for j in range(n_out):
        for i in range(rows):
            r = H[n_layers, j, i] - Y[batch[i], j]
            loss_sum += r * r
            D[0, j, i] = 2.0 * r * _slope(out_code, H[n_layers, j, i])
    here = 0  # D[here] holds this layer's output gradient, D[1 - here] gets the one below
    for layer in range(n_layers - 1, -1, -1):
        n_below, n_here = sizes[layer], sizes[layer + 1]
        W, b = w_at[layer], b_at[layer]
        for j in range(n_here):
            total = 0.0
            for i in range(rows):
                total += D[here, j, i]
            grad[b + j] = total
        for k in range(n_below):
            for j in range(n_here):
                total = 0.0
                for i in range(rows):
                    total += H[layer, k, i] * D[here, j, i]
                grad[W + k * n_here + j] = total
        if layer > 0:
            below_code = codes[layer - 1]
            for k in range(n_below):
                chain = D[1 - here, k]
                for i in range(rows):
                    chain[i] = 0.0
                for j in range(n_here):
                    w = params[W + k * n_here + j]
                    for i in range(rows):
                        chain[i] += w * D[here, j, i]
                for i in range(rows):
                    chain[i] *= _slope(below_code, H[layer, k, i])
        here = 1 - here
    return loss_sum


# ------------------------------------------------------------------ a batch in BLAS products, row-major
@njit(cache=True, nogil=True)
def _block(scratch, slot, rows, units):
    """Slot ``slot`` of a scratch buffer (``(slots, width, columns)``) as a C-contiguous ``rows x units``
    block: its first ``rows * units`` numbers, so any batch's rows stay contiguous for BLAS."""
    flat = scratch.reshape(scratch.shape[0], scratch.shape[1] * scratch.shape[2])
    return flat[slot, : rows * units].reshape(rows, units)


@njit(cache=True, nogil=True)
def _matrix(flat, at, n_in, n_out):
    """The row-major ``n_in x n_out`` matrix at ``flat[at:]`` (a layer's weights, or their gradient), a view."""
    return flat[at : at + n_in * n_out].reshape(n_in, n_out)


@njit(cache=True, nogil=True, fastmath=FAST)
def _forward_products(params, sizes, codes, w_at, b_at, inputs, H, rows):
    """Layer by layer ``H_{l+1} = act(H_l W_l + b_l)`` (``H_0 = inputs``, ``rows x n_in``), one BLAS product
    per layer into row-major blocks of ``H`` (``_block``); returns the outputs' block."""
    below = inputs
    for layer in range(sizes.shape[0] - 1):
        n_in, n_out = sizes[layer], sizes[layer + 1]
        b, code = b_at[layer], codes[layer]
        out = _block(H, layer + 1, rows, n_out)
        np.dot(below, _matrix(params, w_at[layer], n_in, n_out), out)
        for i in range(rows):
            for j in range(n_out):
                out[i, j] = _activate(code, out[i, j] + params[b + j])
        below = out
    return below


@njit(cache=True, nogil=True, fastmath=FAST)
def _batch_products(params, grad, sizes, codes, w_at, b_at, X, Y, batch, H, D):
    """``_batch_loops``' batch with BLAS products on row-major blocks (rows x units):
    ``grad W_l = H_l^T D_l``, ``D_{l-1} = (D_l W_l^T) act'(H_l)``, written into views of ``grad``."""
    n_layers, rows = sizes.shape[0] - 1, batch.shape[0]
    n_in, n_out = sizes[0], sizes[n_layers]
    inputs = _block(H, 0, rows, n_in)
    for i in range(rows):
        for k in range(n_in):
            inputs[i, k] = X[batch[i], k]
    outputs = _forward_products(params, sizes, codes, w_at, b_at, inputs, H, rows)
    out_code = codes[n_layers - 1]
    here = _block(D, 0, rows, n_out)
    loss_sum = 0.0
    for i in range(rows):
        for j in range(n_out):
            r = outputs[i, j] - Y[batch[i], j]
            loss_sum += r * r
            here[i, j] = 2.0 * r * _slope(out_code, outputs[i, j])
    slot = 0  # D's slot holding this layer's output gradient; the other gets the one below
    for layer in range(n_layers - 1, -1, -1):
        n_below, n_here = sizes[layer], sizes[layer + 1]
        b = b_at[layer]
        below = _block(H, layer, rows, n_below)
        np.dot(below.T, here, _matrix(grad, w_at[layer], n_below, n_here))
        for j in range(n_here):
            grad[b + j] = 0.0
        for i in range(rows):
            for j in range(n_here):
                grad[b + j] += here[i, j]
        if layer > 0:
            chain = _block(D, 1 - slot, rows, n_below)
            np.dot(here, _matrix(params, w_at[layer], n_below, n_here).T, chain)
            below_code = codes[layer - 1]
            for i in range(rows):
                for k in range(n_below):
                    chain[i, k] *= _slope(below_code, below[i, k])
            here, slot = chain, 1 - slot
    return loss_sum


# ------------------------------------------------------------------ the epochs, either way
@njit(cache=True, nogil=True)
def _scratch(sizes, columns):
    """A batch's scratch: ``H`` (each layer's input, then the output) and ``D`` (the gradient at a layer's
    output, and below it), ``(slots, width, columns)``: unit-major blocks for the loops, row-major (``_block``)
    for the products."""
    width = 0
    for layer in range(sizes.shape[0]):
        width = max(width, sizes[layer])
    return np.zeros((sizes.shape[0], width, columns)), np.zeros((2, width, columns))


@njit(cache=True, nogil=True, fastmath=FAST)
def train(params, velocity, sizes, codes, X, Y, X_val, Y_val, key, first_epoch, epochs, batch_size, learn_rate, momentum,
          patience, carry, loss_curve, val_curve, products):  # fmt: skip
    """Train ``epochs`` epochs in place, the first of them epoch ``first_epoch`` of the network's training
    (its order of the rows: ``epoch_order``); returns the epochs run (fewer when stopped or diverged).
    ``products``: each batch in BLAS products (``_batch_products``), else in hand-written loops
    (``_batch_loops``); the rest is the same.

    ``carry`` is the stopping rule's ``[previous validation loss, epochs left]``, updated
    for the next chunk of epochs (epochs left 0: it stopped, even on the chunk's last epoch). ``loss_curve[e]`` gets epoch e's mean batch loss
    (each batch's loss before its update, weighted by its rows), ``val_curve[e]`` its
    validation loss (with validation rows). An epoch whose loss is not finite ends
    training there.
    """
    w_at, b_at = _offsets(sizes)
    n = X.shape[0]
    batch = min(n, batch_size)
    remainder = n % batch
    H, D = _scratch(sizes, batch + remainder)
    grad = np.zeros(params.shape[0])
    step = (1.0 - momentum) * learn_rate  # in NNLayer::update's order: ((1 - m) lr) g
    previous, waiting = carry[0], carry[1]
    order, keys = np.empty(n, np.int64), np.empty(n, np.uint64)
    for epoch in range(epochs):
        epoch_order(key, first_epoch + epoch, order, keys)
        loss_sum = 0.0
        start = 0
        while start < n:
            rows = batch + remainder if start == 0 else batch  # the remainder rides on the first batch
            rows_of = order[start : start + rows]  # (a view: the batch kernels see one type of argument)
            if products:
                loss_sum += _batch_products(params, grad, sizes, codes, w_at, b_at, X, Y, rows_of, H, D)
            else:
                loss_sum += _batch_loops(params, grad, sizes, codes, w_at, b_at, X, Y, rows_of, H, D)
            scale = 1.0 / rows
            for p in range(params.shape[0]):
                velocity[p] = momentum * velocity[p] + step * (grad[p] * scale)
                params[p] -= velocity[p]
            start += rows
        loss_curve[epoch] = loss_sum / n
        if not math.isfinite(loss_sum):
            return epoch + 1
        if X_val.shape[0] > 0:
            val_loss = _loss(params, sizes, codes, w_at, b_at, X_val, Y_val, H, products)
            val_curve[epoch] = val_loss
            if val_loss < previous:
                waiting = patience
            else:
                waiting -= 1
            previous = val_loss
            carry[0], carry[1] = previous, waiting  # (before stopping: 0 left tells the caller it stopped)
            if waiting <= 0:
                return epoch + 1
    return epochs


@njit(cache=True, nogil=True, fastmath=FAST)
def _loss(params, sizes, codes, w_at, b_at, X, Y, H, products):
    """FluCoMa's loss over the rows of ``X``: ``sum (pred - y)^2 / rows`` (``MLP::loss``), a block of ``H``'s
    columns at a time, the forward pass in products or loops as ``train``'s."""
    last = sizes.shape[0] - 1
    total = 0.0
    start = 0
    while start < X.shape[0]:
        rows = min(H.shape[2], X.shape[0] - start)
        if products:  # (the rows of X are a row-major block already)
            outputs = _forward_products(params, sizes, codes, w_at, b_at, X[start : start + rows], H, rows)
            for i in range(rows):
                for j in range(sizes[last]):
                    r = outputs[i, j] - Y[start + i, j]
                    total += r * r
        else:
            for i in range(rows):
                for k in range(X.shape[1]):
                    H[0, k, i] = X[start + i, k]
            _forward_loops(params, sizes, codes, w_at, b_at, H, rows)
            for j in range(sizes[last]):
                for i in range(rows):
                    r = H[last, j, i] - Y[start + i, j]
                    total += r * r
        start += rows
    return total / X.shape[0]


@njit(cache=True, nogil=True)
def loss(params, sizes, codes, X, Y, products):
    """FluCoMa's loss of the network on ``(X, Y)``: the error ``fit`` returns (``products`` as ``train``'s)."""
    w_at, b_at = _offsets(sizes)
    H, _ = _scratch(sizes, min(X.shape[0], 256))
    return _loss(params, sizes, codes, w_at, b_at, X, Y, H, products)


def pack(layout_sizes, layout_codes, n_params) -> np.ndarray:
    """A buffer for ``predict_point``: a header ``[n_layers, sizes..., codes...]`` then room for the parameters
    (the network's flat parameter buffer is a view of that room), so one prediction passes two arguments."""
    header = np.concatenate([[len(layout_codes)], layout_sizes, layout_codes]).astype(np.float64)
    return np.concatenate([header, np.zeros(n_params)])


@njit(cache=True, nogil=True)
def predict_point(packed, x, out):
    """The network's output for one point ``x`` into ``out`` (``packed``: see ``pack``); False, ``out`` left
    as it was, when ``x`` is not finite (for the caller's checks, which say what is wrong). (A numpy array
    made by the caller: boxing one that numba allocated costs more than this whole forward pass.)"""
    n_layers = int(packed[0])
    width = 0
    for layer in range(n_layers + 1):
        width = max(width, int(packed[1 + layer]))
    h, z = np.empty(width), np.empty(width)
    for k in range(x.shape[0]):
        if not math.isfinite(x[k]):
            return False
        h[k] = x[k]
    at = 2 + 2 * n_layers  # the parameters: past the header
    for layer in range(n_layers):
        n_in, n_out, code = int(packed[1 + layer]), int(packed[2 + layer]), int(packed[2 + n_layers + layer])
        for j in range(n_out):
            z[j] = packed[at + n_in * n_out + j]
        for k in range(n_in):
            hk = h[k]
            for j in range(n_out):
                z[j] += hk * packed[at + k * n_out + j]
        for j in range(n_out):
            h[j] = _activate(code, z[j])
        at += n_in * n_out + n_out
    for j in range(out.shape[0]):
        out[j] = h[j]
    return True

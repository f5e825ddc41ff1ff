"""The loop state packed into one flat buffer per dtype, and the packed-key shuffle."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mlpkit import engine, packing

TREE = {
    "weights": (np.arange(6.0, dtype=np.float32).reshape(2, 3), np.ones(3, np.float32)),
    "count": np.int32(7),
    "flags": np.array([True, False]),
    "key": np.array([1, 2**32 - 1], np.uint32),
    "scalar": np.float32(-2.5),
    "empty": np.zeros((0, 4), np.float32),
}


def assert_same_tree(a, b):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        assert np.shape(x) == np.shape(y) and np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(x, y)


def test_pack_and_unpack_round_trip_on_the_host():
    layout = packing.layout_of(TREE)
    buffers = packing.pack(TREE, layout, np)
    assert [b.dtype.name for b in buffers] == ["bool", "float32", "int32", "uint32"]
    assert [b.size for b in buffers] == [2, 10, 1, 2]
    assert_same_tree(packing.unpack(buffers, layout), TREE)


def test_pack_and_unpack_round_trip_inside_a_compiled_call():
    layout = packing.layout_of(TREE)
    double = jax.jit(
        lambda buffers: packing.pack(
            jax.tree.map(lambda a: a * 2 if a.dtype == jnp.float32 else a, packing.unpack(buffers, layout)),
            layout,
            jnp,
        )
    )
    out = packing.unpack(jax.device_get(double(packing.pack(TREE, layout, np))), layout)
    expected = jax.tree.map(lambda a: a * 2 if np.asarray(a).dtype == np.float32 else a, TREE)
    assert_same_tree(out, expected)


def test_layouts_of_the_same_shapes_are_equal_and_hashable():
    """The layout is a static argument of jax.jit: equal shapes must give an equal, hashable layout."""
    other = jax.tree.map(lambda a: np.zeros_like(a), TREE)
    assert packing.layout_of(TREE) == packing.layout_of(other)
    assert hash(packing.layout_of(TREE)) == hash(packing.layout_of(other))
    grown = dict(TREE, scalar=np.zeros(2, np.float32))
    assert packing.layout_of(grown) != packing.layout_of(TREE)


def epoch_orders(n_rows, n_pad, epochs, seed=0):
    """``epochs`` shuffled orders of ``n_rows`` real rows padded to ``n_pad`` (one compiled call)."""
    keys = jax.random.split(jax.random.PRNGKey(seed), epochs)
    return np.asarray(jax.jit(jax.vmap(lambda key: engine.epoch_order(key, n_rows, n_pad, True)))(keys))


@pytest.mark.parametrize("n_rows, n_pad", [(1, 1), (1, 2), (3, 4), (5, 5), (200, 256), (257, 320), (1000, 1024)])
def test_epoch_order_is_a_permutation_with_padding_last(n_rows, n_pad):
    orders = epoch_orders(n_rows, n_pad, epochs=50)
    assert (np.sort(orders, axis=1) == np.arange(n_pad)).all()
    assert (np.sort(orders[:, :n_rows], axis=1) == np.arange(n_rows)).all()
    if n_rows > 2:
        assert len({tuple(order) for order in orders}) > 1  # shuffled, not one fixed order


@pytest.mark.parametrize("packed_max", [engine.PACKED_SORT_MAX_ROWS, 8], ids=["packed keys", "argsort"])
def test_epoch_order_puts_each_row_anywhere_with_equal_chance(packed_max, monkeypatch):
    """Row 0's position over 4000 epochs: a chi-square test against the uniform distribution."""
    monkeypatch.setattr(engine, "PACKED_SORT_MAX_ROWS", packed_max)
    n_rows, n_pad, epochs = 10, 16, 4000
    orders = epoch_orders(n_rows, n_pad, epochs)
    assert (np.sort(orders, axis=1) == np.arange(n_pad)).all()
    assert (orders[:, :n_rows] < n_rows).all()
    for row in (0, n_rows - 1):
        counts = np.bincount(np.argmax(orders == row, axis=1), minlength=n_rows)[:n_rows]
        expected = epochs / n_rows
        chi2 = ((counts - expected) ** 2 / expected).sum()
        assert chi2 < 27.9, counts  # the 0.999 quantile of chi-square with 9 degrees of freedom


def test_unshuffled_order_is_the_rows_in_order():
    np.testing.assert_array_equal(engine.epoch_order(jax.random.PRNGKey(0), 5, 8, False), np.arange(8))


def test_the_largest_packed_shuffle_does_not_follow_the_rows_order():
    """Rows whose random parts tie stay in index order; at the largest packed size such runs must stay
    short, or batches would follow the data's order (a uniform shuffle increases half the time)."""
    n = engine.PACKED_SORT_MAX_ROWS
    for order in epoch_orders(n, n, epochs=2):
        increasing = np.mean(np.diff(order) > 0)
        assert increasing < 0.75, increasing


def test_padded_and_aligned_copies_start_on_the_boundary_xla_uses_in_place():
    a = np.arange(30, dtype=np.float32).reshape(10, 3)
    padded = engine.pad_rows(a, 16)
    assert padded.ctypes.data % engine.CPU_ALIGNMENT == 0
    np.testing.assert_array_equal(padded[:10], a)
    assert not padded[10:].any()
    assert engine.pad_rows(a, 10) is a

    unaligned = np.empty(31, np.float32)[1:].reshape(10, 3)  # 4 bytes past an aligned start at most
    unaligned[...] = a
    if unaligned.ctypes.data % engine.CPU_ALIGNMENT:
        copy = engine.aligned(unaligned)
        assert copy is not unaligned and copy.ctypes.data % engine.CPU_ALIGNMENT == 0
        np.testing.assert_array_equal(copy, a)
    assert engine.aligned(padded) is padded
    strided = padded[:, :2]
    assert engine.aligned(strided).flags.c_contiguous


def test_large_leaves_cross_on_their_own():
    """Copying a big network's weights into a buffer would cost more than passing them: they stay apart."""
    big = np.arange(packing.PACK_MAX_SIZE + 1, dtype=np.float32).reshape(-1, 1)
    tree = dict(TREE, big=big)
    layout = packing.layout_of(tree)
    buffers = packing.pack(tree, layout, np)
    assert len(buffers) == len(layout.groups) + 1 and buffers[-1] is big
    assert [b.size for b in buffers[:-1]] == [2, 10, 1, 2]  # the small leaves, packed as before
    assert_same_tree(packing.unpack(buffers, layout), tree)
    inside = jax.jit(lambda b: packing.pack(packing.unpack(b, layout), layout, jnp))(buffers)
    assert_same_tree(packing.unpack(jax.device_get(inside), layout), tree)


def test_layouts_are_found_again_and_their_table_is_bounded(monkeypatch):
    monkeypatch.setattr(packing, "MAX_LAYOUTS", 2)
    monkeypatch.setattr(packing, "_LAYOUTS", {})
    first = packing.layout_of(TREE)
    assert packing.layout_of(jax.tree.map(np.copy, TREE)) is first  # same structure and shapes: the same layout
    for n in (1, 2, 3):
        packing.layout_of({**TREE, "extra": np.zeros(n)})
        assert 1 <= len(packing._LAYOUTS) <= 2
    tree = {**TREE, "extra": np.arange(5.0)}
    layout = packing.layout_of(tree)
    assert_same_tree(packing.unpack(packing.pack(tree, layout, np), layout), tree)

"""A pytree of many small arrays as a few flat buffers, one per dtype.

Each array that enters or leaves a compiled call costs about a microsecond of
dispatch, and each array fetched from the device costs a few more. The training
loop's state holds ~40 arrays (weights, optimiser moments, best weights,
counters, curves), which made the fixed cost of a call several times the
compute of a tiny network's epoch. Packed, the same state crosses the boundary
as four buffers (bool, float, int32, uint32) and is unpacked inside the
compiled program, where the slices are free; on the host ``unpack`` returns
numpy views. Large arrays (a big network's weights) cross on their own.

``layout_of(tree)`` records where each leaf lies (static and hashable, so it can
be a static argument of ``jax.jit``); ``pack(tree, layout, xp)`` and
``unpack(buffers, layout)`` work with ``jax.numpy`` inside a trace and with
``numpy`` on the host.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import numpy as np

#: Leaves with more elements than this cross on their own: copying them into a buffer (a 660k-weight
#: network's state is ~18 MB) costs far more than the microsecond an argument of their own costs.
PACK_MAX_SIZE = 4096


class Slot(NamedTuple):
    """Where one leaf lies: buffer ``group``, elements ``start:stop``, reshaped to ``shape``; a large
    leaf (``group`` -1) is buffer ``len(groups) + start``, itself."""

    group: int
    start: int
    stop: int
    shape: tuple
    dtype: str


class Layout(NamedTuple):
    treedef: Any
    groups: tuple  # the packed buffers' dtype names, in order
    slots: tuple  # one Slot per leaf, in the order of jax.tree.leaves


#: (tree structure, leaves' shapes and dtypes) -> layout: a refit finds its layout again in ~10 us
#: instead of ~100 us. Bounded: past ``MAX_LAYOUTS`` entries it starts afresh.
_LAYOUTS: dict = {}
MAX_LAYOUTS = 1024


def layout_of(tree) -> Layout:
    """The layout of ``tree``, whose leaves are arrays or ``jax.ShapeDtypeStruct``s."""
    leaves, treedef = jax.tree.flatten(tree)
    key = (treedef, tuple((leaf.shape, leaf.dtype) for leaf in leaves))
    layout = _LAYOUTS.get(key)
    if layout is None:
        if len(_LAYOUTS) >= MAX_LAYOUTS:
            _LAYOUTS.clear()
        layout = _LAYOUTS[key] = _new_layout(leaves, treedef)
    return layout


def _new_layout(leaves, treedef) -> Layout:
    dtypes = [np.dtype(leaf.dtype).name for leaf in leaves]
    small = [math.prod(leaf.shape) <= PACK_MAX_SIZE for leaf in leaves]
    groups = tuple(sorted({dtype for dtype, packed in zip(dtypes, small) if packed}))
    filled = dict.fromkeys(groups, 0)
    slots, n_own = [], 0
    for leaf, dtype, packed in zip(leaves, dtypes, small):
        shape = tuple(leaf.shape)
        if packed:
            size = math.prod(shape)
            slots.append(Slot(groups.index(dtype), filled[dtype], filled[dtype] + size, shape, dtype))
            filled[dtype] += size
        else:
            slots.append(Slot(-1, n_own, n_own + 1, shape, dtype))
            n_own += 1
    return Layout(treedef, groups, tuple(slots))


def pack(tree, layout: Layout, xp) -> tuple:
    """The small leaves of ``tree`` (laid out as ``layout``) concatenated into one flat buffer per
    dtype, then the large leaves as they are."""
    parts, own = [[] for _ in layout.groups], []
    for leaf, slot in zip(jax.tree.leaves(tree), layout.slots):
        if slot.group < 0:
            own.append(xp.asarray(leaf, dtype=slot.dtype))
        else:
            parts[slot.group].append(xp.ravel(leaf))
    # (one cast per buffer, in the concatenation: a cast per leaf costs ~1 us each on the host)
    return tuple(xp.concatenate(group, dtype=dtype) for group, dtype in zip(parts, layout.groups)) + tuple(own)


def unpack(buffers, layout: Layout):
    """The tree that ``pack`` flattened (numpy views into ``buffers`` on the host)."""
    n_groups = len(layout.groups)
    leaves = [
        buffers[n_groups + slot.start]
        if slot.group < 0
        else buffers[slot.group][slot.start : slot.stop].reshape(slot.shape)
        for slot in layout.slots
    ]
    return layout.treedef.unflatten(leaves)

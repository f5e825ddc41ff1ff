"""A pytree of many small arrays as a few flat buffers, one per dtype.

Each array that enters or leaves a compiled call costs about a microsecond of
dispatch, and each array fetched from the device costs a few more. The training
loop's state holds ~40 arrays (weights, optimiser moments, best weights,
counters, curves), which made the fixed cost of a call several times the
compute of a tiny network's epoch. Packed, the same state crosses the boundary
as four buffers (bool, float, int32, uint32) and is unpacked inside the
compiled program, where the slices are free; on the host ``unpack`` returns
numpy views.

``layout_of(tree)`` records where each leaf lies (static and hashable, so it can
be a static argument of ``jax.jit``); ``pack(tree, layout, xp)`` and
``unpack(buffers, layout, xp)`` work with ``jax.numpy`` inside a trace and with
``numpy`` on the host.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import numpy as np


class Slot(NamedTuple):
    """Where one leaf lies: buffer ``group``, elements ``start:stop``, reshaped to ``shape``."""

    group: int
    start: int
    stop: int
    shape: tuple


class Layout(NamedTuple):
    treedef: Any
    groups: tuple  # the buffers' dtype names, in order
    slots: tuple  # one Slot per leaf, in the order of jax.tree.leaves


def layout_of(tree) -> Layout:
    """The layout of ``tree``, whose leaves are arrays or ``jax.ShapeDtypeStruct``s."""
    leaves, treedef = jax.tree.flatten(tree)
    dtypes = [np.dtype(leaf.dtype).name for leaf in leaves]
    groups = tuple(sorted(set(dtypes)))
    filled = dict.fromkeys(groups, 0)
    slots = []
    for leaf, dtype in zip(leaves, dtypes):
        size = math.prod(leaf.shape)
        slots.append(Slot(groups.index(dtype), filled[dtype], filled[dtype] + size, tuple(leaf.shape)))
        filled[dtype] += size
    return Layout(treedef, groups, tuple(slots))


def pack(tree, layout: Layout, xp) -> tuple:
    """The leaves of ``tree`` (laid out as ``layout``) concatenated into one flat buffer per dtype."""
    parts = [[] for _ in layout.groups]
    for leaf, slot in zip(jax.tree.leaves(tree), layout.slots):
        parts[slot.group].append(xp.ravel(xp.asarray(leaf, dtype=layout.groups[slot.group])))
    return tuple(xp.concatenate(group) for group in parts)


def unpack(buffers, layout: Layout, xp):
    """The tree that ``pack`` flattened; on the host, numpy views into ``buffers``."""
    leaves = [xp.reshape(buffers[slot.group][slot.start : slot.stop], slot.shape) for slot in layout.slots]
    return layout.treedef.unflatten(leaves)

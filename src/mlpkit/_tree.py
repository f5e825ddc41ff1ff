"""The leaves of mlpkit's state trees in ``jax.tree.leaves``' order, and the trees back, without JAX.

Model files store the optimiser's state and early stopping's best weights leaf by leaf, in JAX's order;
loading a model (``mlpkit predict``, ``mlpkit serve``) should not import JAX for it. The trees are
dicts (keys in sorted order, as JAX flattens them), tuples and named tuples (fields in order), lists,
``None`` (no leaf, as in JAX) and arrays or numbers (the leaves): every state mlpkit keeps, and
optax's own states, are made of these. ``tests/test_io.py`` checks the order against ``jax.tree``.
"""

from __future__ import annotations


def leaves(tree) -> list:
    """The leaves of ``tree``, in ``jax.tree.leaves``' order."""
    if tree is None:
        return []
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in leaves(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for child in tree for leaf in leaves(child)]
    return [tree]


def unflatten(like, new_leaves) -> object:
    """A tree shaped as ``like`` whose leaves are ``new_leaves`` (in ``leaves``' order)."""
    remaining = iter(new_leaves)
    tree = _rebuilt(like, remaining)
    if next(remaining, None) is not None:
        raise ValueError("more leaves than the tree holds")
    return tree


def _rebuilt(like, remaining):
    if like is None:
        return None
    if isinstance(like, dict):
        children = {key: _rebuilt(like[key], remaining) for key in sorted(like)}
        return {key: children[key] for key in like}  # (the keys in like's order)
    if isinstance(like, tuple) and hasattr(like, "_fields"):  # a named tuple
        return type(like)(*(_rebuilt(child, remaining) for child in like))
    if isinstance(like, (tuple, list)):
        return type(like)(_rebuilt(child, remaining) for child in like)
    return next(remaining)

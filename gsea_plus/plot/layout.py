"""Placing an enrichment map: nodes by springs, labels where they cover nothing."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["force_layout", "place_labels", "wrap"]


def _spring(weights: np.ndarray, groups: np.ndarray, rng) -> np.ndarray:
    """Fruchterman-Reingold positions of one connected component, in [0, 1]^2."""
    n = len(weights)
    if n == 1:
        return np.array([[0.5, 0.5]])
    # Start each cluster on its own spot of a circle, so clusters begin apart.
    _, inv = np.unique(groups, return_inverse=True)
    angle = 2 * np.pi * inv / max(int(inv.max()) + 1, 1)
    pos = np.c_[np.cos(angle), np.sin(angle)] + rng.normal(scale=0.15, size=(n, 2))
    k = 1.0 / math.sqrt(n)
    iterations = 300
    temp = 0.1
    for it in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.sqrt((delta**2).sum(-1)), 1e-3)
        force = k * k / dist**2 - weights * dist / k
        np.fill_diagonal(force, 0.0)
        disp = (delta * force[:, :, None]).sum(axis=1)
        length = np.maximum(np.sqrt((disp**2).sum(-1)), 1e-9)
        pos += disp / length[:, None] * np.minimum(length, temp)[:, None]
        temp = 0.1 * (1.0 - it / iterations) + 0.002
    pos -= pos.min(axis=0)
    return pos / max(float(pos.max()), 1e-9)


def force_layout(weights: np.ndarray, groups: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """Node positions: each connected component laid out by springs, components packed.

    Components are placed largest first in rows (boxes of side proportional to the
    square root of their size), so unconnected terms sit beside the map, not far away.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(weights)
    rng = np.random.default_rng(seed)
    _, comp = connected_components(csr_matrix(weights > 0), directed=False)
    sizes = np.bincount(comp)
    order = np.argsort(-sizes, kind="stable")
    side = np.sqrt(sizes)
    row_width = max(float(side.max()), math.sqrt(float(sizes.sum())) * 1.4)
    pos = np.zeros((n, 2))
    x = y = row_height = 0.0
    for c in order.tolist():
        members = np.flatnonzero(comp == c)
        box = float(side[c])
        if x > 0 and x + box > row_width + 1e-9:
            x, y = 0.0, y - row_height - 0.35
            row_height = 0.0
        inner = _spring(weights[np.ix_(members, members)], groups[members], rng)
        pad = 0.2 if len(members) > 1 else 0.0
        pos[members] = np.c_[x + pad + inner[:, 0] * (box - pad), y - pad - inner[:, 1] * box]
        x += box + 0.35
        row_height = max(row_height, box)
    # Fill the square axes: scale each direction to [0, 1], but stretch one at most
    # twice as much as the other, and centre what is left.
    pos -= pos.min(axis=0)
    span = np.maximum(pos.max(axis=0), 1e-9)
    scale = 1.0 / span
    scale = np.minimum(scale, 2.0 * scale.min())
    pos *= scale
    return pos + (1.0 - pos.max(axis=0)) / 2.0


_DIRECTIONS = [
    (0, 1), (0, -1), (1, 0), (-1, 0), (0.7, 0.7), (-0.7, 0.7), (0.7, -0.7), (-0.7, -0.7),
]  # fmt: skip
_ALIGN = {-1: "right", 0: "center", 1: "left"}
_VALIGN = {-1: "top", 0: "center", 1: "bottom"}


class _Crowd:
    """What a label must not cover: the labels placed so far, the nodes, the axes' edge."""

    def __init__(self, ax, centers: np.ndarray, radii_px: np.ndarray):
        self.boxes: list[tuple[float, float, float, float]] = []
        self.discs = [(c[0], c[1], r) for c, r in zip(centers, radii_px, strict=True)]
        self.frame = ax.get_window_extent()

    def cost(self, b: tuple[float, float, float, float], own: int) -> float:
        """Area of ``b`` over placed labels, plus nodes it covers; outside the axes: huge."""
        total = 0.0
        for q in self.boxes:
            w = min(b[2], q[2]) - max(b[0], q[0])
            h = min(b[3], q[3]) - max(b[1], q[1])
            if w > 0 and h > 0:
                total += w * h
        for j, (x, y, r) in enumerate(self.discs):
            if j != own and b[0] - r < x < b[2] + r and b[1] - r < y < b[3] + r:
                total += r * r
        f = self.frame
        if b[0] < f.x0 or b[2] > f.x1 or b[1] < f.y0 or b[3] > f.y1:
            total += 1e6
        return total


def place_labels(fig, ax, pos: np.ndarray, radii: np.ndarray, texts: dict) -> dict[int, bool]:
    """Move node labels clear of other labels and nodes.

    Labels are placed in the order of ``texts`` (the caller puts the most important
    first). Each goes to the first of 8 directions and 3 distances around its node that
    covers nothing, else to the least crowded of them. Returns, per label, whether it
    found a free spot.
    """
    if not texts:
        return {}
    fig.draw_without_rendering()
    scale = fig.dpi / 72.0
    centers = ax.transData.transform(pos)
    crowd = _Crowd(ax, centers, radii * scale)
    renderer = fig.canvas.get_renderer()
    free: dict[int, bool] = {}
    for i, label in texts.items():
        ext = label.get_window_extent(renderer)
        best: tuple[float, float, float, Any, float, float] | None = None
        for reach in (1.0, 2.0, 3.2):
            for ux, uy in _DIRECTIONS:
                d = (radii[i] + 2) * scale * reach
                b = _box(centers[i], ux * d, uy * d, ext.width, ext.height)
                c = crowd.cost(b, i)
                if best is None or c < best[0]:
                    best = (c, ux * d, uy * d, b, ux, uy)
            if best is not None and best[0] == 0:
                break
        assert best is not None  # the directions are never empty
        cost, dx, dy, b, ux, uy = best
        label.set_position((dx / scale, dy / scale))
        label.set_ha(_ALIGN[int(np.sign(round(ux)))])
        label.set_va(_VALIGN[int(np.sign(round(uy)))])
        crowd.boxes.append(b)
        free[i] = cost == 0
    return free


def _box(center, dx: float, dy: float, w: float, h: float) -> tuple[float, float, float, float]:
    """The label's box (display units) when its anchor is ``(dx, dy)`` from the node."""
    cx, cy = center
    x0 = cx + dx - (w / 2 if dx == 0 else (w if dx < 0 else 0))
    y0 = cy + dy - (h / 2 if dy == 0 else (h if dy < 0 else 0))
    return x0, y0, x0 + w, y0 + h


def wrap(text: str, width: int = 24) -> str:
    """``text`` broken into lines of at most ``width`` characters (words kept whole)."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False)) or text

"""Overlap search for many IPv4 prefixes in O(n log n + pairs) instead of comparing every pair.

CIDR prefixes never partly overlap: two prefixes either are disjoint or one contains the other.
Sorted by (first address, widest first), each prefix overlaps exactly the prefixes still open on a
stack of enclosing ones, so one sweep finds every overlapping pair.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network
from typing import TypeVar

K = TypeVar("K")


def overlapping_pairs(items: Iterable[tuple[IPv4Network, K]]) -> list[tuple[K, K]]:
    """Every pair of keys whose prefixes overlap, as (earlier key, later key) in input order."""
    entries = []
    for order, (net, key) in enumerate(items):
        first = int(net.network_address)
        entries.append((first, -(first | int(net.hostmask)), order, key))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    stack: list[tuple[int, int, K]] = []  # (last address, order, key) of enclosing prefixes
    pairs = []
    for first, neg_last, order, key in entries:
        while stack and stack[-1][0] < first:
            stack.pop()
        for _, other_order, other in stack:
            pairs.append((other, key) if other_order < order else (key, other))
        stack.append((-neg_last, order, key))
    return pairs

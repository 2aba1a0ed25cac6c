"""The performance fast paths give exactly what the straightforward code gives.

Each fast path is checked against a reference: the pairwise overlap rules, PyYAML's constructor,
jsonschema, json.dumps. (Speed is measured in bench/, never asserted here.)
"""

from __future__ import annotations

import copy
import datetime
import json
import random
from ipaddress import IPv4Address, IPv4Network
from itertools import combinations
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from conftest import INVENTORIES, ROOT

from generator import jsonfmt, loader, rules, schema
from generator.netindex import overlapping_pairs


# ---------------------------------------------------------------- overlap rules (sort-based)
def _random_prefix(rng: random.Random) -> IPv4Network:
    length = rng.choice([8, 12, 16, 20, 22, 24, 24, 26, 28, 30, 32])
    address = (10 << 24) | rng.getrandbits(20) << 4  # a narrow range: many overlaps
    return IPv4Network((address, length), strict=False)


def _model(rng: random.Random, sites: int, vnets: int) -> SimpleNamespace:
    site_list = tuple(
        SimpleNamespace(
            name=f"s{i}",
            path=("onprem", "sites", i),
            prefixes=tuple(dict.fromkeys(_random_prefix(rng) for _ in range(rng.randint(1, 3)))),
        )
        for i in range(sites)
    )
    vnet_list = tuple(
        SimpleNamespace(
            name=f"v{i}",
            path=("azure", "vnets", i),
            address_space=tuple(dict.fromkeys(_random_prefix(rng) for _ in range(rng.randint(1, 2)))),
        )
        for i in range(vnets)
    )
    devices = tuple(
        SimpleNamespace(
            name=f"d{i}",
            path=("onprem", "sites", 0, "devices", i),
            public_ip=IPv4Address("198.51.100.1"),
            bgp_ip=None if i % 5 == 0 else IPv4Address((10 << 24) | rng.getrandbits(24)),
        )
        for i in range(sites)
    )
    return SimpleNamespace(sites=site_list, vnets=vnet_list, devices=devices)


def _pairwise(model) -> list[tuple]:
    """The rules as first written: every pair compared (the reference)."""
    found = []
    for a, b in combinations(model.vnets, 2):
        for pa in a.address_space:
            for j, pb in enumerate(b.address_space):
                if pa.overlaps(pb):
                    found.append((b.path + ("address_space", j), f"{pb} overlaps {pa} of VNet '{a.name}'"))
    for site in model.sites:
        for j, prefix in enumerate(site.prefixes):
            for vnet in model.vnets:
                for space in vnet.address_space:
                    if prefix.overlaps(space):
                        found.append((site.path + ("prefixes", j), f"{prefix} overlaps VNet '{vnet.name}' ({space})"))
    for a, b in combinations(model.sites, 2):
        for pa in a.prefixes:
            for j, pb in enumerate(b.prefixes):
                if pa.overlaps(pb):
                    found.append((b.path + ("prefixes", j), f"{pb} overlaps {pa} of site '{a.name}'"))
    seen = {}
    for d in model.devices:
        if d.bgp_ip is None:
            continue
        for vnet in model.vnets:
            if any(d.bgp_ip in space for space in vnet.address_space):
                found.append((d.path + ("bgp_ip",), f"{d.bgp_ip} lies inside VNet '{vnet.name}'"))
        if d.bgp_ip in seen:
            found.append((d.path + ("bgp_ip",), f"{d.bgp_ip} is already the BGP address of device '{seen[d.bgp_ip]}'"))
        seen.setdefault(d.bgp_ip, d.name)
    return found


@pytest.mark.parametrize("seed", range(25))
def test_sort_based_overlap_rules_match_pairwise_comparison(seed: int) -> None:
    rng = random.Random(seed)
    model = _model(rng, sites=rng.randint(2, 60), vnets=rng.randint(1, 8))
    got = []
    for check in (rules._vnet_overlap, rules._onprem_overlap, rules._site_overlap, rules._bgp_ip_sane):
        got += [(p.path, p.message.split(";")[0]) for p in check(model)]
    expected = _pairwise(model)
    assert got == expected
    assert expected  # the random prefixes do overlap


def test_overlapping_pairs_finds_identical_and_nested_prefixes() -> None:
    nets = [IPv4Network(n) for n in ("10.0.0.0/8", "10.1.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "11.0.0.0/8")]
    pairs = sorted(overlapping_pairs((net, i) for i, net in enumerate(nets)))
    assert pairs == [(0, 1), (0, 2), (0, 3), (1, 2)]


# ---------------------------------------------------------------- YAML construction
TRICKY_YAML = [
    "a: 1\nb: [x, 'y', 2.5, .inf, -.nan, ~, null, true, no, 0x1F, 0o17, 1_000, +12]\n",
    "base: &b {k: v, n: [1, 2]}\nuse: *b\nlist: [*b, *b]\n",
    "a: 1\nb:\n  c: 2\n  c: 3\na: 4\nd: [{e: 1, e: 2}]\n",  # duplicates at several depths
    "x: {a: {b: {c: {d: 1, d: 2}}}, a2: 1, a2: 2}\ny: 1\ny: 2\n",
    "m: &m {a: 1}\nn:\n  <<: *m\n  b: 2\n",  # merge key
    "when: 2026-11-27\nblob: !!binary aGVsbG8=\n",  # timestamp, binary
    "? [complex, key]\n: value\n",
    "1: one\n'1': string one\ntrue: t\n",
    "",
    "just a scalar\n",
    "- a\n- b: [c, {d: e}]\n",
    "s: !!set {a, b}\n",
]


@pytest.mark.parametrize("text", TRICKY_YAML + [p.read_text() for p in INVENTORIES])
def test_fast_yaml_construction_matches_pyyaml(text: str) -> None:
    reference = loader._Loader(text)
    try:
        expected = reference.get_single_data()
    except yaml.YAMLError:
        expected = "error"
    finally:
        reference.dispose()
    fast = loader._Loader(text)
    try:
        try:
            root = fast.get_single_node()
            got = loader._construct_plain(fast, root) if root is not None else None
        except loader._Unusual:
            return  # load() then uses PyYAML's constructor itself
        except yaml.YAMLError:
            got = "error"
    finally:
        fast.dispose()
    assert got == expected
    assert type(got) is type(expected)
    assert [(n.start_mark.line, n.start_mark.column) for n in fast.duplicates] == [
        (n.start_mark.line, n.start_mark.column) for n in reference.duplicates
    ]


def test_fast_yaml_construction_keeps_aliases_shared(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("base: &b {k: v}\nuse: *b\n")
    data = loader.load(path).data
    assert data["base"] is data["use"]


def test_fast_yaml_handles_the_unusual_documents_through_pyyaml(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("m: &m {a: 1}\nn:\n  <<: *m\n  b: 2\nwhen: 2026-11-27\n")
    assert loader.load(path).data == {"m": {"a": 1}, "n": {"a": 1, "b": 2}, "when": datetime.date(2026, 11, 27)}


# ---------------------------------------------------------------- schema (compiled fast path)
def _mutations(data, rng: random.Random, count: int):
    """Copies of `data` with one value replaced, one key removed or one unknown key added."""
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, path + (i,))

    walk(data, ())
    replacements = [
        "",
        "x" * 300,
        "bad name!",
        "10.0.0.0/33",
        "300.1.1.1",
        "ok\n",
        "tab\tinside",
        "quote'",
        "é",
        -1,
        0,
        70000,
        4294967295,
        65001.0,
        1.5,
        True,
        None,
        [],
        {},
        ["a", "a"],
        {"env": "X", "file": "y"},
        datetime.date(2026, 1, 1),
    ]
    for _ in range(count):
        doc = copy.deepcopy(data)
        path = rng.choice(paths[1:])
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = rng.random()
        if action < 0.7:
            parent[path[-1]] = copy.deepcopy(rng.choice(replacements))
        elif action < 0.85 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[f"{path[-1]}_extra"] = 1
        yield doc


def test_compiled_validator_is_installed() -> None:
    assert schema._fast_validator() is not None, "jsonschema-rs is missing: pip install jsonschema-rs"


@pytest.mark.parametrize("source", [*INVENTORIES, "bench"], ids=lambda s: getattr(s, "stem", s))
def test_schema_fast_path_gives_the_same_problems_as_jsonschema(source) -> None:
    if source == "bench":
        import sys

        sys.path.insert(0, str(ROOT / "bench"))
        import make_inventory

        data = yaml.safe_load(make_inventory.make(12))
    else:
        data = yaml.safe_load(source.read_text())
    assert schema.validate(data) == [] == schema.explain(data)
    rng = random.Random(str(source))
    invalid = 0
    for doc in _mutations(data, rng, 150):
        expected = schema.explain(doc)
        assert schema.validate(doc) == expected
        invalid += bool(expected)
    assert invalid > 50  # the mutations do break the schema


# ---------------------------------------------------------------- canonical JSON
@pytest.mark.parametrize(
    "data",
    [
        {"a": [1, {"b": []}, {}], "s": 'é😀 \u0001\b\f\n\r\t"\\/\u007f\u2028', "t": True, "n": None},
        {"float": 1e16, "small": 1.5e-7, "x": 0.1},
        {"big": 2**70, "neg": -(2**63)},
        {"surrogate": "\ud800"},
        [],
        "text",
    ],
)
def test_fast_canonical_json_matches_json_dumps(data) -> None:
    text = json.dumps(data)
    assert jsonfmt.reformat(text) == json.dumps(data, indent=2, ensure_ascii=False) + "\n"

"""Compare what a Bicep file and an ARM template declare, resource for resource.

Both sides are reduced to the same normal form: one dict per resource (type, full name,
apiVersion, location, tags, sku, zones, properties, dependencies), with every reference written
as `ID(rg|type|name/child)`, `PARAM(name)` or `REF(id).path` (a runtime property). The ARM side
comes from the template's JSON (`[resourceId(...)]`, `[parameters(...)]`, `[reference(...)]`);
the Bicep side from pycep-parser's JSON, evaluated here: literal loops are expanded, loop
variables and parameter defaults substituted, symbolic references (`sym.id`, `sym[i].id`,
`sym.properties.x`, `'${sym.id}/child/name'`, `parent:`) resolved to ids, and dependencies taken
from the symbols a resource references (Bicep's implicit dependencies) or lists in `dependsOn`.

pycep writes an identifier and a string literal the same way (a bare string), so before pycep
reads the file, tree-sitter-bicep finds every identifier that names a parameter or a loop variable
in a value position and it is renamed `__ref_<name>`; every other bare string is a literal.
pycep keeps string escapes; they are undone here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from checks_bicep import _tree_sitter, parse_bicep

_ARM_STRING = re.compile(r"'((?:[^']|'')*)'")
_RESOURCE_ID = re.compile(r"^resourceId\((.*)\)$")
_REFERENCE = re.compile(r"^reference\((resourceId\(.*?\)), '[^']*'\)\.(.+)$")
_PARAMETER = re.compile(r"^parameters\('([^']*)'\)$")
_INTERPOLATED_ID = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?\.id\}((?:/[^/$]+/[^/$]+)+)$")
_MARK = "__ref_"
_ESCAPES = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


def ident(rg: str, type_: str, names: tuple[str, ...] | list[str]) -> str:
    return f"ID({rg}|{type_}|{'/'.join(names)})"


# --------------------------------------------------------------------------------------- ARM
def _arm_id(call: str, rg: str) -> str:
    args = [a.replace("''", "'") for a in _ARM_STRING.findall(_RESOURCE_ID.match(call).group(1))]
    if "/" not in args[0]:
        rg, args = args[0], args[1:]
    return ident(rg, args[0], args[1:])


def _arm_value(value: Any, rg: str) -> Any:
    if isinstance(value, dict):
        return {k: _arm_value(v, rg) for k, v in value.items()}
    if isinstance(value, list):
        return [_arm_value(v, rg) for v in value]
    if isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[["):
        expr = value[1:-1]
        if _RESOURCE_ID.match(expr):
            return _arm_id(expr, rg)
        if m := _PARAMETER.match(expr):
            return f"PARAM({m.group(1)})"
        if m := _REFERENCE.match(expr):
            return f"REF({_arm_id(m.group(1), rg)}).{m.group(2)}"
        raise AssertionError(f"ARM expression not understood by the comparison: {value}")
    return value


def arm_declarations(text: str, rg: str) -> tuple[dict[str, dict], dict[str, Any]]:
    """(id -> normalized resource, output name -> normalized value) of an ARM template."""
    doc = json.loads(text)
    resources = {}
    for r in doc["resources"]:
        names = r["name"].split("/")
        key = ident(rg, r["type"], names)
        norm = {k: _arm_value(v, rg) for k, v in r.items() if k != "dependsOn"}
        norm["dependsOn"] = sorted(_arm_value(d, rg) for d in r.get("dependsOn", []))
        resources[key] = norm
    outputs = {name: _arm_value(o["value"], rg) for name, o in doc.get("outputs", {}).items()}
    return resources, outputs


# ------------------------------------------------------------------------------------- Bicep
def unescape(raw: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), raw)


@dataclass
class _Symbol:
    type: str
    ids: list[str]  # one per loop iteration (one for a plain resource)
    names: list[str]  # full names, ARM style (parent/child)
    existing: bool
    loop: bool


@dataclass
class _Evaluator:
    rg: str
    params: dict[str, Any]
    symbols: dict[str, _Symbol] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)  # symbols referenced while evaluating one resource

    def value(self, node: Any, env: dict[str, Any]) -> Any:
        if isinstance(node, bool | int | float) or node is None:
            return node
        if isinstance(node, str):
            return self.string(node, env)
        if isinstance(node, list):
            return [self.value(v, env) for v in node]
        if isinstance(node, dict):
            if "operator" in node:
                return self.chain(_steps(node), env)
            if "function" in node:
                return self.function(node["function"], env)
            if "loop_type" in node:
                return [self.value(node["config"], {**env, **b}) for b in self.loop(node["loop_type"], env)]
            return {_key(k): self.value(v, env) for k, v in node.items()}
        raise AssertionError(f"pycep node not understood: {node!r}")

    def string(self, raw: str, env: dict[str, Any]) -> Any:
        if raw.startswith(_MARK):
            name = raw[len(_MARK) :]
            return env[name] if name in env else self.params[name]
        if m := _INTERPOLATED_ID.match(raw):
            symbol, index, tail = m.group(1), m.group(2), m.group(3)
            base = self.resource(symbol, int(index) if index is not None else None)
            rg, type_, names = base[3:-1].split("|")
            parts = tail.strip("/").split("/")
            type_ += "".join("/" + p for p in parts[0::2])
            return ident(rg, type_, [*names.split("/"), *parts[1::2]])
        if "${" in raw.replace("\\${", ""):
            raise AssertionError(f"interpolation not understood by the comparison: {raw}")
        return unescape(raw)

    def resource(self, symbol: str, index: int | None) -> str:
        s = self.symbols[symbol]
        if s.loop != (index is not None):
            raise AssertionError(f"{symbol}: {'a collection needs an index' if s.loop else 'not a collection'}")
        self.used.add(symbol)
        return s.ids[index or 0]

    def chain(self, steps: list[tuple[str, Any]], env: dict[str, Any]) -> Any:
        kind, base = steps[0]
        rest = steps[1:]
        if base in self.symbols:
            index = None
            if rest and rest[0][0] == "index":
                index = self.value(rest[0][1], env)
                rest = rest[1:]
            rid = self.resource(base, index)
            head = rest[0][1] if rest else None
            if head == "id" and len(rest) == 1:
                return rid
            if head == "name" and len(rest) == 1:
                return self.symbols[base].names[index or 0]
            if head == "properties":
                path = "".join(f"[{v}]" if k == "index" else f".{v}" for k, v in rest[1:])
                return f"REF({rid}){path}"
            raise AssertionError(f"reference not understood: {steps}")
        value = self.value(base, env)
        for k, v in rest:
            value = value[self.value(v, env)] if k == "index" else value[v]
        return value

    def function(self, fn: dict[str, Any], env: dict[str, Any]) -> Any:
        p = fn["parameters"]
        if fn["type"] == "resource_id":
            names = [self.value(p[k], env) for k in sorted(p) if k.startswith("resource_name_") and p[k] is not None]
            rg = self.value(p["resource_group_name"], env) if p.get("resource_group_name") else self.rg
            return ident(rg, self.value(p["resource_type"], env), names)
        if fn["type"] == "range":
            start, count = self.value(p["start_index"], env), self.value(p["count"], env)
            return list(range(start, start + count))
        raise AssertionError(f"function not understood by the comparison: {fn['type']}")

    def loop(self, loop_type: dict[str, Any], env: dict[str, Any]) -> list[dict[str, Any]]:
        detail = loop_type["detail"]
        items = self.value(detail["array_name"], env)
        if loop_type["type"] == "array":
            return [{detail["item_name"]: item} for item in items]
        if loop_type["type"] == "array_index":
            return [{detail["item_name"]: item, detail["index_name"]: i} for i, item in enumerate(items)]
        raise AssertionError(f"loop not understood by the comparison: {loop_type['type']}")


def _key(key: str) -> str:
    return unescape(key[1:-1]) if len(key) >= 2 and key[0] == key[-1] == "'" else key


def _steps(node: Any) -> list[tuple[str, Any]]:
    """Flatten pycep's nested accessors: a.b[0].c -> [(name,a), (name,b), (index,0), (name,c)]."""
    if isinstance(node, dict) and "operator" in node:
        op = node["operator"]
        a, b = op["operands"]["operand_1"], op["operands"]["operand_2"]
        if op["type"] == "property_accessor":
            return _steps(a) + _steps(b)
        if op["type"] == "index_accessor":
            return _steps(a) + [("index", b)]
        raise AssertionError(f"operator not understood by the comparison: {op['type']}")
    return [("name", node)]


def _scope_rg(config: dict[str, Any], rg: str, ev: _Evaluator) -> str:
    scope = config.get("scope")
    if scope is None:
        return rg
    fn = scope["function"]
    assert fn["type"] == "resource_group" and fn["parameters"].get("subscription_id") is None, scope
    return ev.value(fn["parameters"]["resource_group_name"], {})


def mark_references(text: str) -> str:
    """Rename identifiers that read a parameter or a loop variable to `__ref_<name>` (see above)."""
    data = text.encode("utf-8")
    root = _tree_sitter().parse(data).root_node
    nodes, stack = [], [root]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.children)
    declared = set()
    for node in nodes:
        if node.type == "parameter_declaration":
            declared.add(node.children[1].text.decode())
        elif node.type in ("loop_variable", "loop_enumerator"):
            declared.add(node.text.decode())
        elif node.type == "for_statement" and node.child_by_field_name("initializer") is not None:
            declared.add(node.child_by_field_name("initializer").text.decode())
    spans = []
    for node in nodes:
        if node.type != "identifier" or node.text.decode() not in declared:
            continue
        parent = node.parent
        if parent.type == "parameter_declaration" or parent.type == "for_loop_parameters":
            continue
        if parent.type == "object_property" and parent.children[0].id == node.id:
            continue  # a key
        if parent.type == "for_statement" and parent.child_by_field_name("initializer").id == node.id:
            continue
        spans.append((node.start_byte, node.end_byte))
    for start, end in sorted(spans, reverse=True):
        data = data[:start] + _MARK.encode() + data[start:end] + data[end:]
    return data.decode("utf-8")


def bicep_declarations(text: str, rg: str) -> tuple[dict[str, dict], dict[str, Any]]:
    """(id -> normalized resource, output name -> normalized value) of a Bicep file."""
    doc = parse_bicep(mark_references(text))
    params = {}
    for name, p in doc.get("parameters", {}).items():
        secure = any(d["type"] == "secure" for d in p["decorators"])
        params[name] = f"PARAM({name})" if secure or p.get("default") is None else None
    ev = _Evaluator(rg, params)
    for name, p in doc.get("parameters", {}).items():  # defaults may only use literals
        if params[name] is None:
            params[name] = ev.value(p["default"], {})
    # First pass: the id of every symbol (names are literals or loop variables).
    bodies = []
    for symbol, r in doc.get("resources", {}).items():
        config = r["config"]
        loop = "loop_type" in config
        bindings = ev.loop(config["loop_type"], {}) if loop else [{}]
        inner = config["config"] if loop else config
        names, ids = [], []
        for env in bindings:
            name = ev.value(inner["name"], env)
            if "parent" in inner:
                parent = ev.symbols[inner["parent"]]
                name = f"{parent.names[0]}/{name}"
            names.append(name)
            ids.append(ident(_scope_rg(inner, rg, ev), r["type"], name.split("/")))
        ev.symbols[symbol] = _Symbol(r["type"], ids, names, r["existing"], loop)
        if not r["existing"]:
            bodies.append((symbol, r, inner, bindings))
    # Second pass: bodies, with the symbols each one references.
    resources = {}
    for symbol, r, inner, bindings in bodies:
        for i, env in enumerate(bindings):
            ev.used = {inner["parent"]} if "parent" in inner else set()
            norm = {"type": r["type"], "apiVersion": r["api_version"], "name": ev.symbols[symbol].names[i]}
            for k, v in inner.items():
                if k == "dependsOn":  # explicit dependencies: a list of symbols
                    ev.used.update(v)
                elif k not in ("name", "parent", "scope"):
                    norm[k] = ev.value(v, env)
            depends = set()
            for used in ev.used - {symbol}:
                if not ev.symbols[used].existing:
                    depends.update(ev.symbols[used].ids)
            norm["dependsOn"] = sorted(depends)
            resources[ev.symbols[symbol].ids[i]] = norm
    ev.used = set()
    outputs = {name: ev.value(o["value"], {}) for name, o in doc.get("outputs", {}).items()}
    return resources, outputs


# ---------------------------------------------------------------------------------- compare
def differences(arm_text: str, bicep_text: str, rg: str) -> list[str]:
    """Every way the Bicep file's resources and outputs differ from the ARM template's."""
    arm, arm_out = arm_declarations(arm_text, rg)
    bicep, bicep_out = bicep_declarations(bicep_text, rg)
    problems = []
    if list(arm) != list(bicep):
        problems.append(f"resources differ in set or order: ARM {list(arm)} vs Bicep {list(bicep)}")
    for key in arm:
        if key in bicep:
            problems += _diff(arm[key], bicep[key], key)
    return problems + _diff(arm_out, bicep_out, "outputs")


_MISSING = object()


def _diff(a: Any, b: Any, where: str) -> list[str]:
    """Leaf-level differences: `where.path: ARM x != Bicep y`."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for k in list(a) + [k for k in b if k not in a]:
            found += _diff(a.get(k, _MISSING), b.get(k, _MISSING), f"{where}.{k}")
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b, strict=True)) for p in _diff(x, y, f"{where}[{i}]")]
    if a is _MISSING or b is _MISSING or a != b:
        show = lambda v: "(absent)" if v is _MISSING else json.dumps(v)  # noqa: E731
        return [f"{where}: ARM {show(a)} != Bicep {show(b)}"]
    return []

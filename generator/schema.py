"""JSON Schema validation of the raw inventory, with messages that say what to change."""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from typing import Any

from .errors import Problem
from .resources import resource_path

SCHEMA_FILE = "inventory.schema.json"
UNFILLED_PLATFORM = "unknown"  # what gen import writes for the user to fill in (rule device-platform-unknown)


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(resource_path("schemas", SCHEMA_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator, validators

    # JSON Schema counts 65001.0 as an integer; a router config must not get "65001.0", so floats
    # are never integers here (YAML writes integers without a point).
    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    strict = validators.extend(Draft202012Validator, {"pattern": _pattern_keyword}, type_checker=checker)
    return strict(schema(), format_checker=_formats())


@lru_cache(maxsize=256)
def _ecma(pattern: str) -> re.Pattern:
    """ECMA-262 semantics for a final '$': end of input. Python's '$' also matches before a final
    newline, which would let "name\\n" through every anchored pattern."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + "\\Z"
    return re.compile(pattern)


def _pattern_keyword(validator, pattern, instance, schema):
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _formats():
    """Formats the patterns cannot express (host bits of a prefix); JSON Schema tools ignore them."""
    from ipaddress import IPv4Network

    from jsonschema import FormatChecker

    formats = FormatChecker(formats=())

    @formats.checks("ipv4-prefix", raises=ValueError)
    def _prefix(value: object) -> bool:
        return not isinstance(value, str) or bool(IPv4Network(value))

    return formats


@lru_cache(maxsize=1)
def _fast_validator():
    """The compiled validator (jsonschema-rs), or None where it is not installed."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs.Draft202012Validator(schema(), formats={"ipv4-prefix": _no_host_bits}, validate_formats=True)


def _no_host_bits(value: str) -> bool:
    from ipaddress import IPv4Network

    try:
        return bool(IPv4Network(value))
    except ValueError:
        return False


def _has_float(data: Any) -> bool:
    """JSON Schema (and jsonschema-rs) counts 65001.0 as an integer; gen does not (see _validator)."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, float):
            return True
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def validate(data: Any) -> list[Problem]:
    """Every schema problem in `data`, in document order.

    Valid input is accepted by the compiled validator (~50x faster, and jsonschema is not even
    imported); anything else goes to jsonschema, which explains every error.
    """
    fast = _fast_validator()
    if fast is not None:
        try:
            if fast.is_valid(data) and not _has_float(data):
                return []
        except Exception:  # a value JSON cannot hold (date, non-string key): jsonschema judges
            pass
    return explain(data)


def explain(data: Any) -> list[Problem]:
    """Every schema problem in `data` found by jsonschema, in document order (empty when valid)."""
    problems = [p for error in _leaves(_validator().iter_errors(data)) for p in _problems(error)]
    return sorted(problems, key=lambda p: [str(x) for x in p.path])


def _leaves(errors):
    """Replace oneOf/anyOf failures by their most useful branch errors."""
    for error in errors:
        if (
            error.validator in ("oneOf", "anyOf")
            and error.context
            and error.validator_value
            and not all(set(branch) == {"required"} for branch in error.validator_value)
        ):
            best = min(error.context, key=lambda e: (len(e.path), e.validator == "type"))
            yield best
        else:
            yield error


def _problems(error) -> list[Problem]:
    if error.validator == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        found = []
        for extra in (k for k in error.instance if k not in error.schema.get("properties", {})):
            close = difflib.get_close_matches(str(extra), known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(known)}"
            found.append(
                Problem(
                    tuple(error.absolute_path) + (str(extra),),  # a key is a name, even `1:`
                    f"unknown field {_quote(extra)}{hint}",
                    "schema-unknown-field",
                    at_key=True,
                )
            )
        return found
    return [_problem(error)]


def _problem(error) -> Problem:
    path = tuple(error.absolute_path)
    kind, value, instance = error.validator, error.validator_value, error.instance
    if "propertyNames" in error.schema_path:  # a key of the mapping is wrong: point at the key
        return Problem(
            path + (str(instance),),
            f"{_show(instance)} is not a valid key: must match {value}",
            "schema-pattern",
            at_key=True,
        )
    described = error.schema.get("description", "") if isinstance(error.schema, dict) else ""
    described = _DESCRIPTION_PREFIX.sub("", described)  # "Required. " is for the docs, not a message
    if "psk" in path:  # what stands where a key reference belongs may be the key itself: never echo it
        return _psk_problem(error, path)
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return Problem(path, f"missing required field '{missing}'", "schema-required")
    if kind == "type":
        return Problem(path, f"{_show(instance)} is a {_kind(instance)}; expected {_a(value)}", "schema-type")
    if kind == "enum" and path[-1:] == ("platform",) and instance == UNFILLED_PLATFORM:
        return Problem(
            path,
            f"not filled in: gen import cannot know the device platform (Azure does not record it); "
            f"set one of: {', '.join(map(str, value))}",
            "device-platform-unknown",
        )
    if kind == "enum":
        return Problem(
            path, f"{_show(instance)} is not allowed; use one of: {', '.join(map(str, value))}", "schema-enum"
        )
    if kind == "pattern":
        return Problem(path, f"{_show(instance)} is not valid: {described or 'must match ' + value}", "schema-pattern")
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = "at least" if "inimum" in kind else "at most"
        return Problem(path, f"{instance} is out of range: must be {word} {value}", "schema-range")
    if kind in ("minItems", "maxItems", "minProperties", "maxProperties"):
        word = "at least" if kind.startswith("min") else "at most"
        noun = "items" if kind.endswith("Items") else "fields"
        return Problem(path, f"has {len(instance)} {noun}; must have {word} {value}", "schema-size")
    if kind in ("minLength", "maxLength"):
        word = "at least" if kind == "minLength" else "at most"
        return Problem(
            path,
            f"is {len(instance)} character{'s' if len(instance) != 1 else ''} long; must be {word} {value}",
            "schema-size",
        )
    if kind == "uniqueItems":
        return Problem(path, "has duplicate items; list each value once", "schema-unique")
    if kind == "oneOf":
        options = " or ".join(f"'{branch['required'][0]}'" for branch in value if "required" in branch)
        return Problem(path, f"give exactly one of {options}", "schema-one-of")
    if kind == "format" and value == "ipv4-prefix":
        try:
            from ipaddress import IPv4Interface

            network = IPv4Interface(instance).network
        except ValueError:
            return Problem(path, f"{_show(instance)} is not an IPv4 prefix", "schema-format")
        return Problem(path, f"{_show(instance)} has host bits set; did you mean {network}?", "schema-format")
    return Problem(path, error.message, f"schema-{kind}")


_DESCRIPTION_PREFIX = re.compile(r"^(Required|Optional)\.\s*")


def _psk_problem(error, path: tuple) -> Problem:
    """A problem under `psk:`, told without its value (`psk: hunter2` must not print hunter2)."""
    kind = error.validator
    if kind == "type" and path[-1] == "psk":
        return Problem(
            path,
            f"a {_kind(error.instance)} (not shown: it may be the key); give a reference, psk: {{env: NAME}} or psk: {{file: PATH}}, never the key",
            "schema-type",
        )
    if kind == "required":
        return _problem_without_secret(error, path)
    rule = {
        "minLength": "schema-size",
        "maxLength": "schema-size",
        "minProperties": "schema-size",
        "maxProperties": "schema-size",
    }.get(kind, f"schema-{kind}")
    return Problem(
        path,
        f"the value (not shown: it may be a key) does not fit: {_generic(kind)}; psk takes {{env: NAME}}, {{file: PATH}} or {{keyvault: {{resource_group, vault, secret}}}}",
        rule,
    )


def _problem_without_secret(error, path: tuple) -> Problem:
    missing = error.message.split("'")[1] if "'" in error.message else "a field"
    return Problem(path, f"missing required field '{missing}'", "schema-required")


def _generic(kind: str) -> str:
    return {
        "pattern": "not a valid name",
        "type": "the wrong type",
        "maxProperties": "give one of env, file or keyvault (beside keyvault, one env or file)",
        "minProperties": "give one of env, file or keyvault (beside keyvault, one env or file)",
        "minLength": "too short",
        "maxLength": "too long",
        "oneOf": "give exactly one of env or file",
    }.get(kind, kind)


def _quote(key: Any) -> str:
    """'key' for a plain key; a JSON string (escapes visible, one line) for anything else."""
    text = str(key)
    return f"'{text}'" if text.isprintable() and "'" not in text else _show(text)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "integer", float: "number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _a(expected: Any) -> str:
    names = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "integer": "an integer",
        "boolean": "true or false",
        "number": "a number",
    }
    if isinstance(expected, list):
        return " or ".join(names.get(e, e) for e in expected)
    return names.get(expected, expected)

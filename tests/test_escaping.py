"""The one escaping filter per output syntax: any text in, a literal that means exactly that text out.

Each filter is checked against a small decoder of the target syntax's rules (cited), on random text
including quotes, backslashes, `$`, `${`, backticks, newlines and PowerShell's typographic quotes.
"""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from generator.render import bicep_string, config_text, ps_string, tojson

NASTY = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("'\"`$\\{}\n\r\t;!#|&<>() \u2018\u2019\u201a\u201b\u00e9\u0000")),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=40,
)
FAST = settings(max_examples=100, deadline=None, database=None)

# PowerShell single-quoted strings: any of these ends the string unless doubled (about_Quoting_Rules,
# https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_quoting_rules).
PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def ps_decode(literal: str) -> str:
    assert literal[0] in PS_QUOTES and literal[-1] in PS_QUOTES
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] in PS_QUOTES:
            assert i + 1 < len(body) and body[i + 1] in PS_QUOTES, f"unpaired quote in {literal!r}"
            out.append(body[i])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


# Bicep strings: \\ \' \n \r \t \$ and \u{...} are the escapes; ${ starts interpolation
# (https://learn.microsoft.com/azure/azure-resource-manager/bicep/data-types#strings).
BICEP_ESCAPES = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


def bicep_decode(literal: str) -> str:
    assert literal[0] == "'" and literal[-1] == "'"
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        char = body[i]
        assert char != "'", f"unescaped quote in {literal!r}"
        assert not body.startswith("${", i), f"interpolation in {literal!r}"
        if char == "\\":
            if body[i + 1] == "u":
                end = body.index("}", i)
                out.append(chr(int(body[i + 3 : end], 16)))
                i = end + 1
                continue
            out.append(BICEP_ESCAPES[body[i + 1]])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


@FAST
@given(NASTY)
def test_tojson_is_a_json_literal_of_the_text(text: str) -> None:
    assert json.loads(tojson(text)) == text
    assert "\n" not in tojson(text)


@FAST
@given(NASTY)
def test_ps_string_is_a_single_quoted_literal_of_the_text(text: str) -> None:
    assert ps_decode(ps_string(text)) == text


@FAST
@given(NASTY)
def test_bicep_string_is_a_literal_of_the_text(text: str) -> None:
    assert bicep_decode(bicep_string(text)) == text


@FAST
@given(NASTY)
def test_config_text_is_one_safe_line(text: str) -> None:
    safe = config_text(text)
    assert re.fullmatch(r"[\x20-\x7e]*", safe) and not set(safe) & set("\"'`$;!\\{}")
    assert len(safe) == len(text)


def test_the_decoders_reject_broken_literals() -> None:
    """The decoders are strict enough to catch a filter that escapes nothing."""
    import pytest

    with pytest.raises(AssertionError):
        ps_decode("'it's'")
    with pytest.raises(AssertionError):
        ps_decode("'it\u2019s'")
    with pytest.raises(AssertionError):
        bicep_decode("'it's'")
    with pytest.raises(AssertionError):
        bicep_decode("'${x}'")

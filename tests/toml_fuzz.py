"""Hypothesis strategies for the box's TOML files (board profiles, site settings, flows, scenarios, tone
plans, R2 variants): a real file with a few of its values changed to any TOML value, keys dropped or
unknown keys added, or the file cut short. A loader must answer each with its value or its own error
naming the file, never another exception: a mistyped file is an error message, not a traceback."""
from __future__ import annotations

import datetime as dt
import tomllib

import tomli_w
from hypothesis import strategies as st

# Values that sit on the edges the readers check: empty, negative, huge, not-a-number, wrong type.
EDGE_STRINGS = st.sampled_from(["", " ", "-1", "0", "1e309", "nan", "..", "../../etc/passwd", "a" * 300,
                                "\u0000", "é", "0x10", "true"])
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1),
    st.sampled_from([0, -1, 1, 2 ** 31, 10 ** 18]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    EDGE_STRINGS,
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.times(),
)
KEYS = st.one_of(st.sampled_from(["type", "name", "next", "queue", "port", "seconds", "x"]),
                 st.text(min_size=1, max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(KEYS, inner, max_size=3)),
                      max_leaves=6)


def _slots(doc: dict | list, out: list) -> list:
    """(container, key) of every value in the document, nested ones too."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc)
    for key, value in list(items):
        out.append((doc, key))
        if isinstance(value, (dict, list)):
            _slots(value, out)
    return out


@st.composite
def mutated(draw, text: str, max_changes: int = 3) -> str:
    """`text` (a valid TOML file) with 1..max_changes values replaced, dropped or added."""
    doc = tomllib.loads(text)
    for _ in range(draw(st.integers(1, max_changes))):
        slots = _slots(doc, [])
        container, key = draw(st.sampled_from(slots)) if slots else (doc, None)
        change = draw(st.sampled_from(("replace", "drop", "add")))
        if change == "replace" and key is not None:
            container[key] = draw(VALUES)
        elif change == "drop" and key is not None:
            del container[key]
        else:
            table = container if isinstance(container, dict) else doc
            table[draw(KEYS)] = draw(VALUES)
    return tomli_w.dumps(doc)


def cut_short(text: str):
    """`text` cut at any point: a file half written, a paste that lost its end."""
    return st.integers(0, len(text)).map(lambda n: text[:n])


def variants(text: str):
    """Any of: a mutated copy, a truncated copy, or text that is not TOML at all."""
    return st.one_of(mutated(text), cut_short(text), st.text(max_size=200))

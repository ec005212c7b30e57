"""The model registry: every library model is registered by name."""

from __future__ import annotations

import builtins
import difflib

import pandas as pd

_REGISTRY: dict = {}


def register(factory):
    """Add a model factory to the library (used as a decorator)."""
    _REGISTRY[factory.__name__] = factory
    return factory


def get(name: str):
    """The library's model factory called ``name``.

    Raises
    ------
    KeyError
        For an unknown name; the message lists the nearest names.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    near = difflib.get_close_matches(name, builtins.list(_REGISTRY), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise KeyError(f"unknown model {name!r}{hint} Available: {', '.join(sorted(_REGISTRY))}")


def list_models() -> pd.DataFrame:
    """Every library model with its parameters (and ranges), required columns and citation.

    Returns
    -------
    pandas.DataFrame
        Indexed by model name.
    """
    rows = []
    for name, factory in _REGISTRY.items():
        m = factory()
        rows.append(
            {
                "model": name,
                "parameters": ", ".join(f"{k} {v.describe()}" for k, v in m.params.items()),
                "columns": ", ".join(("participant", "choice", *m.columns)),
                "description": m.description,
                "citation": m.citation,
            }
        )
    return pd.DataFrame(rows).set_index("model")

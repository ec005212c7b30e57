"""The model registry: every library model is registered by name."""

from __future__ import annotations

import builtins
import difflib

import pandas as pd

#: Library model factories by name.
_REGISTRY: dict = {}

#: Model transformers (``with_lapse``...) by the token they add to a model's name (``"lapse"``).
_VARIANTS: dict = {}


def register(factory):
    """Add a model factory to the library (used as a decorator)."""
    _REGISTRY[factory.__name__] = factory
    return factory


def register_variant(token: str):
    """Register a model transformer under the token it appends to model names (``"+lapse"``).

    A transformer ``f(model, **kwargs) -> Model`` names its result ``f"{model.name}+{token}"``
    (optionally ``f"+{token}(detail)"``) and stores ``{"base": model.name, "base_options":
    model.options, **kwargs}`` as options; :func:`get` then rebuilds the composed model from
    that name and those options.
    """

    def decorator(transformer):
        _VARIANTS[token] = transformer
        return transformer

    return decorator


def _composed_factory(name: str):
    """A factory rebuilding ``"base+token"`` from its options, or None when ``name`` is not composed."""
    base_name, plus, token = name.rpartition("+")
    transformer = _VARIANTS.get(token.split("(", 1)[0]) if plus else None
    if transformer is None or not can_rebuild(base_name):
        return None

    def factory(base: str = base_name, base_options=None, **kwargs):
        if base != base_name:
            raise ValueError(f"model {name!r} is built on {base_name!r}, not {base!r}")
        return transformer(get(base)(**dict(base_options or {})), **kwargs)

    factory.__name__ = name
    factory.__doc__ = transformer.__doc__
    return factory


def can_rebuild(name: str) -> bool:
    """Whether :func:`get` can rebuild a model called ``name`` (library or composed variant)."""
    return name in _REGISTRY or (isinstance(name, str) and _composed_factory(name) is not None)


def get(name: str):
    """The library's model factory called ``name``.

    Composed names (``"rescorla_wagner+lapse"``, ``"pst_Q+perseveration(decay)+lapse"``) give
    a factory that rebuilds the variant from its stored options (``base``, ``base_options``
    and the transformer's keyword arguments).

    Raises
    ------
    KeyError
        For an unknown name; the message lists the nearest names.
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    composed = _composed_factory(name) if isinstance(name, str) else None
    if composed is not None:
        return composed
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
                "columns": ", ".join(("participant", *m.choice_columns, *m.columns)),
                "description": m.description,
                "citation": m.citation,
            }
        )
    return pd.DataFrame(rows).set_index("model")

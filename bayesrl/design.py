"""Study designs: covariates and groups on a parameter's group location, and within-participant conditions.

:func:`build_design` turns :func:`bayesrl.fit`'s ``formula=``, ``participant_data=``,
``sigma_by=``, ``conditions=`` and ``reset=`` into a :class:`Design`, which the hierarchy
(:func:`bayesrl.hierarchy.hierarchical_model`) reads:

- ``formula={"alpha": "1 + group + age"}``: the group location of ``alpha`` on the
  unconstrained scale is ``X @ alpha_beta`` for a participant-level design matrix ``X`` built
  by `formulaic <https://matthewwardrop.github.io/formulaic/>`_ (one row per participant).
  Categorical covariates (strings, booleans, pandas categories, or ``C(x)``) are treatment
  coded: the reference level is the first in sorted order (formulaic's default; choose another
  with ``C(group, contr.treatment("patient"))``). Numeric covariates used as plain terms are
  standardised (mean 0, sd 1 over participants, sample sd) unless ``standardize=False``.
- ``sigma_by={"alpha": "group"}``: one group-level scale ``alpha_sigma`` per level of a
  participant-level column.
- ``conditions={"alpha": "condition"}``: a trial-level column; each non-reference condition
  ``c`` adds an offset ``alpha_cond[c] + alpha_cond_sigma[c] * alpha_cond_z[i, c]`` to
  participant ``i``'s unconstrained value, and the value on each trial is that of the trial's
  condition (the engine scans per-trial parameter values, see :mod:`bayesrl.engine`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data import ALIASES, DataError, _norm, _py

#: Fields of metadata["design"] and the coding described to users.
CODING = (
    "treatment coding (formulaic): the reference level of a categorical covariate is its first level in sorted "
    "order, unless set with C(x, contr.treatment(...)); numeric covariates are continuous"
)
RESETS = ("block", "condition", None)


@dataclass(frozen=True, eq=False)
class ParamDesign:
    """The design of one parameter's hierarchy (anything left at its default is the plain hierarchy).

    Attributes
    ----------
    formula : str or None
        Right-hand side of the participant-level regression (None: one location ``p_mu``).
    terms : tuple of str
        Coefficient names (the design matrix's columns), e.g. ``("Intercept", "group[T.patient]")``.
    X : numpy.ndarray or None, shape (participant, coef)
    sigma_by : str or None
        Participant-level column with one group scale per level.
    sigma_levels : tuple
    sigma_index : numpy.ndarray or None, shape (participant,)
        Each participant's level of ``sigma_by`` (index into ``sigma_levels``).
    condition : str or None
        Trial-level column of the within-participant condition.
    condition_levels : tuple
        All levels, the reference first.
    """

    formula: str | None = None
    terms: tuple = ()
    X: np.ndarray | None = None
    sigma_by: str | None = None
    sigma_levels: tuple = ()
    sigma_index: np.ndarray | None = None
    condition: str | None = None
    condition_levels: tuple = ()

    @property
    def n_conditions(self) -> int:
        """Number of condition levels (1 without conditions)."""
        return max(1, len(self.condition_levels))


@dataclass(frozen=True, eq=False)
class Design:
    """A fit's study design (see the module docstring).

    Attributes
    ----------
    params : dict of str to ParamDesign
        Only the parameters with a formula, a scale by group or conditions.
    covariates : pandas.DataFrame
        One row per participant (fit order), the covariates as the formulas saw them
        (standardised where applicable).
    raw : pandas.DataFrame
        The same before standardisation.
    scaling : dict of str to (float, float)
        Mean and sd of each standardised covariate.
    standardize : bool
    reset : {"block", "condition", None}
    specs : dict of str to formulaic.ModelSpec
        Per formula parameter, to build design rows for new covariate values.
    condition_index : dict of str to numpy.ndarray, each shape (participant, trial)
        Per condition parameter, each trial's condition (index into ``condition_levels``).
    """

    params: dict
    covariates: pd.DataFrame
    raw: pd.DataFrame
    scaling: dict
    standardize: bool
    reset: str | None
    specs: dict = field(default_factory=dict)
    condition_index: dict = field(default_factory=dict)

    def get(self, name: str) -> ParamDesign:
        """The design of parameter ``name`` (the plain one when it has none)."""
        return self.params.get(name, ParamDesign())

    def to_metadata(self) -> dict:
        """JSON-serialisable description (stored in a fit's metadata; :func:`from_metadata` rebuilds)."""
        return {
            "formula": {k: v.formula for k, v in self.params.items() if v.formula},
            "terms": {k: list(v.terms) for k, v in self.params.items() if v.formula},
            "sigma_by": {k: v.sigma_by for k, v in self.params.items() if v.sigma_by},
            "sigma_levels": {k: [_py(x) for x in v.sigma_levels] for k, v in self.params.items() if v.sigma_by},
            "conditions": {k: v.condition for k, v in self.params.items() if v.condition},
            "condition_levels": {
                k: [_py(x) for x in v.condition_levels] for k, v in self.params.items() if v.condition
            },
            "standardize": self.standardize,
            "standardized": {k: {"mean": m, "sd": s} for k, (m, s) in self.scaling.items()},
            "coding": CODING,
            "reset": self.reset,
            "covariates": {c: [_py(x) for x in self.raw[c].tolist()] for c in self.raw.columns},
        }


def _as_mapping(value, what: str, names) -> dict:
    if value is None:
        return {}
    if isinstance(value, str):
        return dict.fromkeys(names, value)
    if not isinstance(value, Mapping):
        raise TypeError(f"{what}= must be a dict {{parameter: ...}} (or, for formula=, one string for every parameter)")
    out = dict(value)
    unknown = [k for k in out if k not in names]
    if unknown:
        raise ValueError(f"{what}= names unknown parameter(s) {unknown}; the model has parameters {list(names)}")
    for k, v in out.items():
        if not isinstance(v, str) or not v.strip():
            raise TypeError(
                f"{what}[{k!r}] must be a non-empty string (a {'formula' if what == 'formula' else 'column name'})"
            )
    return out


def _required_variables(name: str, formula: str) -> list[str]:
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    if "~" in formula:
        raise ValueError(
            f"formula[{name!r}] = {formula!r}: give only the right-hand side (e.g. '1 + group + age'); the "
            f"left-hand side is the parameter itself"
        )
    try:
        return sorted(Formula(formula).required_variables)
    except FormulaicError as err:
        raise ValueError(f"formula[{name!r}] = {formula!r} cannot be parsed: {err}") from None


def _participant_table(participant_data, ids) -> pd.DataFrame:
    """``participant_data`` re-indexed to the fit's participants (in fit order)."""
    if not isinstance(participant_data, pd.DataFrame):
        raise TypeError("participant_data= must be a pandas DataFrame with one row per participant")
    table = participant_data
    by_norm = {_norm(c): c for c in table.columns}
    id_col = next((by_norm[_norm(a)] for a in ALIASES["participant"] if _norm(a) in by_norm), None)
    keys = table[id_col] if id_col is not None else table.index.to_series()
    dup = keys[keys.duplicated()]
    if len(dup):
        raise DataError(f"participant_data has several rows for participant {_py(dup.iloc[0])!r}")
    table = table.set_axis(pd.Index(keys.to_numpy()), axis=0)
    if id_col is not None:
        table = table.drop(columns=[id_col])
    wanted = pd.Index(ids)
    if not wanted.isin(table.index).all() and wanted.astype(str).isin(table.index.astype(str)).all():
        table = table.set_axis(table.index.astype(str), axis=0)
        wanted = wanted.astype(str)
    missing = [_py(x) for x in wanted[~wanted.isin(table.index)]]
    if missing:
        raise DataError(
            f"participant_data has no row for participant(s) {missing[:10]}{'...' if len(missing) > 10 else ''} "
            f"(it is matched on its {'column ' + repr(id_col) if id_col is not None else 'index'})"
        )
    return table.loc[wanted].set_axis(pd.Index(ids), axis=0)


def _from_trials(df: pd.DataFrame, dataset, column: str) -> pd.Series:
    """A participant-constant column of the trial table, one value per participant."""
    n_p = dataset.n_participants
    values = []
    raw = df[column].to_numpy()
    for i in range(n_p):
        rows = dataset.row_index[i][dataset.row_index[i] >= 0]
        vals = pd.unique(pd.Series(raw[np.sort(rows)]).dropna())
        if len(vals) > 1:
            raise DataError(
                f"covariate {column!r} varies within participant {_py(dataset.participants[i])!r} "
                f"({_py(vals[0])!r}, {_py(vals[1])!r}); a covariate must be constant within a participant "
                f"(use conditions= for a trial-level variable)"
            )
        values.append(vals[0] if len(vals) else np.nan)
    return pd.Series(values, index=pd.Index(dataset.participants), name=column, dtype=df[column].dtype)


def _covariates(df, dataset, participant_data, columns, where) -> pd.DataFrame:
    ptable = None if participant_data is None else _participant_table(participant_data, dataset.participants)
    out = {}
    for col in columns:
        if ptable is not None and col in ptable.columns:
            out[col] = ptable[col]
        elif col in df.columns:
            out[col] = _from_trials(df, dataset, col)
        else:
            have = (
                ("participant_data has columns " + str(list(map(str, ptable.columns))) + "; ")
                if ptable is not None
                else ""
            )
            raise DataError(
                f"{where[col]} names unknown column {col!r}; {have}the trial table has columns "
                f"{list(map(str, df.columns))}"
            )
        missing = pd.isna(out[col]).to_numpy()
        if missing.any():
            who = [_py(x) for x in dataset.participants[missing]]
            raise DataError(
                f"covariate {col!r} is missing for participant(s) {who[:10]}{'...' if len(who) > 10 else ''}; "
                f"every participant needs a value"
            )
    return pd.DataFrame(out, index=pd.Index(dataset.participants, name="participant"))


def _is_continuous(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _model_matrix(name, formula, table):
    from formulaic import model_matrix
    from formulaic.errors import FormulaicError

    try:
        mm = model_matrix(formula, table, na_action="raise")
    except FormulaicError as err:
        raise ValueError(f"formula[{name!r}] = {formula!r} cannot be evaluated: {err}") from None
    return mm


def _levels(values: pd.Series) -> tuple:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return tuple(values.cat.categories)
    return tuple(sorted(pd.unique(values.dropna())))


def build_design(
    model,
    df: pd.DataFrame,
    dataset,
    *,
    formula=None,
    participant_data=None,
    standardize: bool = True,
    sigma_by=None,
    conditions=None,
    reset: str | None = "block",
):
    """Validate the design arguments of :func:`bayesrl.fit` and build the :class:`Design`.

    Parameters
    ----------
    model : bayesrl.Model
    df : pandas.DataFrame
        The trial table as read (not modified).
    dataset : bayesrl.data.Dataset
        The padded data built from ``df``.
    formula, participant_data, standardize, sigma_by, conditions, reset
        As in :func:`bayesrl.fit`.

    Returns
    -------
    design : Design or None
        None when every argument is at its default (the plain hierarchy).
    dataset : bayesrl.data.Dataset
        ``dataset`` with the block starts ``reset`` asks for and, per condition parameter ``p``,
        an int array ``arrays["p_condition"]`` of shape (participant, trial).

    Raises
    ------
    ValueError, TypeError, bayesrl.DataError
        For an unknown parameter or column, a formula that cannot be parsed, a covariate that is
        missing for a participant or varies within one, a constant covariate, a design matrix
        that is not of full column rank, or a condition missing on a trial with a choice.
    """
    names = list(model.param_names)
    if isinstance(conditions, str) or isinstance(sigma_by, str):
        raise TypeError("sigma_by= and conditions= must be dicts {parameter: column}")
    formulas = {k: v.strip() for k, v in _as_mapping(formula, "formula", names).items()}
    scales = _as_mapping(sigma_by, "sigma_by", names)
    conds = _as_mapping(conditions, "conditions", names)
    if reset not in RESETS:
        raise ValueError(f"reset must be 'block', 'condition' or None, got {reset!r}")
    if reset == "condition" and not conds:
        raise ValueError("reset='condition' resets the learned values where the condition changes; give conditions=")
    if participant_data is not None and not formulas and not scales:
        raise ValueError("participant_data= holds covariates for formula= or sigma_by=; neither was given")
    if not formulas and not scales and not conds and reset == "block":
        return None, dataset

    where = {}
    for p, f in formulas.items():
        for col in _required_variables(p, f):
            where.setdefault(col, f"formula[{p!r}] = {f!r}")
    for p, col in scales.items():
        where.setdefault(col, f"sigma_by[{p!r}]")
    raw = _covariates(df, dataset, participant_data, list(where), where)
    for p, col in scales.items():
        if _is_continuous(raw[col]) and raw[col].nunique() > 10:
            raise ValueError(f"sigma_by[{p!r}] = {col!r} has {raw[col].nunique()} values; it must be a grouping column")

    # standardise numeric covariates that a formula uses as a plain term
    table, scaling = raw.copy(), {}
    if standardize:
        for p, f in formulas.items():
            used = _model_matrix(p, f, raw).model_spec.encoder_state
            for col in raw.columns:
                if col in used and _is_continuous(raw[col]) and col not in scaling:
                    values = raw[col].to_numpy(float)
                    sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
                    if not sd > 0:
                        raise DataError(f"covariate {col!r} ({where[col]}) has the same value for every participant")
                    scaling[col] = (float(values.mean()), sd)
                    table[col] = (values - scaling[col][0]) / sd

    params, specs = {}, {}
    for p in names:
        kwargs = {}
        if p in formulas:
            mm = _model_matrix(p, formulas[p], table)
            X = np.asarray(mm, dtype=float)
            terms = tuple(mm.model_spec.column_names)
            if X.shape[0] != dataset.n_participants or not np.isfinite(X).all():
                raise DataError(
                    f"formula[{p!r}] = {formulas[p]!r} gives non-finite values for some participants (a transform "
                    f"of a standardised covariate? pass standardize=False or transform the column yourself)"
                )
            rank = np.linalg.matrix_rank(X)
            if rank < X.shape[1]:
                raise DataError(
                    f"formula[{p!r}] = {formulas[p]!r}: the design matrix (columns {list(terms)}) has rank {rank} < "
                    f"{X.shape[1]}: some columns are collinear or a level has no participant"
                )
            kwargs.update(formula=formulas[p], terms=terms, X=X)
            specs[p] = mm.model_spec
        if p in scales:
            levels = _levels(raw[scales[p]])
            index = pd.Categorical(raw[scales[p]], categories=list(levels)).codes.astype(np.int32)
            kwargs.update(sigma_by=scales[p], sigma_levels=levels, sigma_index=index)
        if kwargs:
            params[p] = kwargs

    arrays = dict(dataset.arrays)
    real = dataset.row_index >= 0
    condition_index = {}
    changes = np.zeros(real.shape, bool)
    for p, col in conds.items():
        if col not in df.columns:
            raise DataError(
                f"conditions[{p!r}] names unknown column {col!r}; the trial table has columns "
                f"{list(map(str, df.columns))}"
            )
        series = df[col]
        levels = _levels(series)
        if len(levels) < 2:
            raise DataError(f"conditions[{p!r}]: column {col!r} has only the level(s) {list(levels)}; it needs two")
        codes = pd.Categorical(series, categories=list(levels)).codes
        cells = np.where(real, codes[np.where(real, dataset.row_index, 0)], 0)
        missing = real & arrays["valid"] & (cells < 0)
        if missing.any():
            i, t = np.argwhere(missing)[0]
            raise DataError(
                f"column {col!r} (conditions[{p!r}]) is missing at participant {_py(dataset.participants[i])!r}, row "
                f"{_py(df.index[dataset.row_index[i, t]])!r}, a trial with a choice"
            )
        cells = np.maximum(cells, 0).astype(np.int32)
        arrays[f"{p}_condition"] = cells
        condition_index[p] = cells
        changes[:, 1:] |= (cells[:, 1:] != cells[:, :-1]) & real[:, 1:]
        params.setdefault(p, {}).update(condition=col, condition_levels=levels)
    if reset is None:
        arrays["block_start"] = np.zeros_like(arrays["block_start"])
    elif reset == "condition":
        arrays["block_start"] = arrays["block_start"] | changes
    design = Design(
        params={p: ParamDesign(**kw) for p, kw in params.items()},
        covariates=table,
        raw=raw,
        scaling=scaling,
        standardize=bool(standardize),
        reset=reset,
        specs=specs,
        condition_index=condition_index,
    )
    return design, dataclasses.replace(dataset, arrays=arrays)


def from_metadata(meta: dict, dataset) -> Design:
    """Rebuild a fit's :class:`Design` from its stored metadata and data (formulas evaluated again)."""
    raw = pd.DataFrame(
        {c: v for c, v in meta.get("covariates", {}).items()}, index=pd.Index(dataset.participants, name="participant")
    )
    table = raw.copy()
    for col, s in meta.get("standardized", {}).items():
        table[col] = (raw[col].to_numpy(float) - s["mean"]) / s["sd"]
    params, specs = {}, {}
    for p, f in meta.get("formula", {}).items():
        mm = _model_matrix(p, f, table)
        params.setdefault(p, {}).update(formula=f, terms=tuple(mm.model_spec.column_names), X=np.asarray(mm, float))
        specs[p] = mm.model_spec
    for p, col in meta.get("sigma_by", {}).items():
        levels = tuple(meta["sigma_levels"][p])
        index = pd.Categorical(raw[col], categories=list(levels)).codes.astype(np.int32)
        params.setdefault(p, {}).update(sigma_by=col, sigma_levels=levels, sigma_index=index)
    condition_index = {}
    for p, col in meta.get("conditions", {}).items():
        params.setdefault(p, {}).update(condition=col, condition_levels=tuple(meta["condition_levels"][p]))
        condition_index[p] = np.asarray(dataset.arrays[f"{p}_condition"]).astype(np.int32)
    return Design(
        params={p: ParamDesign(**kw) for p, kw in params.items()},
        covariates=table,
        raw=raw,
        scaling={c: (s["mean"], s["sd"]) for c, s in meta.get("standardized", {}).items()},
        standardize=bool(meta.get("standardize", True)),
        reset=meta.get("reset", "block"),
        specs=specs,
        condition_index=condition_index,
    )


#: ParamDesign fields that hold one row per participant.
_PARTICIPANT_FIELDS = ("X", "sigma_index")


def participant_arrays(design: Design | None) -> dict:
    """The design's arrays with a leading participant axis, as a plain nested dict (a JAX pytree).

    Parameters
    ----------
    design : Design or None

    Returns
    -------
    dict of str to dict of str to array
        ``{param: {field: array}}`` with the fields present among ``X`` (participant, coef),
        ``sigma_index`` (participant,) and ``condition_index`` (participant, trial); empty
        without a design. :func:`with_participant_arrays` puts (e.g. sharded) copies back.
    """
    if design is None:
        return {}
    out = {}
    for name in sorted(set(design.params) | set(design.condition_index)):
        d = design.get(name)
        fields = {f: getattr(d, f) for f in _PARTICIPANT_FIELDS if getattr(d, f) is not None}
        if name in design.condition_index:
            fields["condition_index"] = design.condition_index[name]
        if fields:
            out[name] = fields
    return out


def with_participant_arrays(design: Design | None, arrays: Mapping) -> Design | None:
    """``design`` with its participant-axis arrays replaced by ``arrays`` (as :func:`participant_arrays` gives).

    Parameters
    ----------
    design : Design or None
    arrays : mapping of str to mapping of str to array

    Returns
    -------
    Design or None
        A new Design (the input is not modified); None when ``design`` is None.
    """
    if design is None:
        return None
    params = dict(design.params)
    condition_index = dict(design.condition_index)
    for name, fields in arrays.items():
        fields = dict(fields)
        if "condition_index" in fields:
            condition_index[name] = fields.pop("condition_index")
        if fields:
            params[name] = dataclasses.replace(design.get(name), **fields)
    return dataclasses.replace(design, params=params, condition_index=condition_index)


def trial_values(values: Mapping, condition_index: Mapping) -> dict:
    """Give each condition parameter the value of each trial's condition.

    Parameters
    ----------
    values : mapping of str to array
        Natural-scale values, shape (..., participant), or (..., participant, condition) for a
        parameter with conditions.
    condition_index : mapping of str to int array, each shape (participant, trial)

    Returns
    -------
    dict of str to array
        ``values`` with each condition parameter gathered to shape (..., participant, trial),
        what :func:`bayesrl.engine.logits` takes as a per-trial parameter.
    """
    import jax.numpy as jnp

    out = dict(values)
    for name, idx in condition_index.items():
        v = jnp.asarray(out[name])
        index = jnp.broadcast_to(jnp.asarray(idx), v.shape[:-1] + (idx.shape[-1],))
        out[name] = jnp.take_along_axis(v, index, axis=-1)
    return out


def group_sites(model, design: Design | None) -> list[str]:
    """Names of the posterior's group-level variables, parameter by parameter."""
    out = []
    for p in model.param_names if hasattr(model, "param_names") else model:
        d = design.get(p) if design is not None else ParamDesign()
        out += [f"{p}_beta"] if d.formula else [f"{p}_group", f"{p}_mu"]
        out.append(f"{p}_sigma")
        if d.condition:
            out += [f"{p}_cond", f"{p}_cond_sigma"]
    return out


def dims(design: Design | None) -> tuple[dict, dict]:
    """ArviZ ``dims`` and ``coords`` of the design's posterior variables."""
    dims_, coords = {}, {}
    for p, d in design.params.items() if design is not None else ():
        if d.formula:
            dims_[f"{p}_beta"] = [f"{p}_coef"]
            coords[f"{p}_coef"] = list(d.terms)
        if d.sigma_by:
            dims_[f"{p}_sigma"] = [f"{p}_sigma_level"]
            coords[f"{p}_sigma_level"] = _coord(d.sigma_levels)
        if d.condition:
            dims_[p] = ["participant", f"{p}_condition"]
            dims_[f"{p}_group"] = [f"{p}_condition"]
            dims_[f"{p}_cond"] = dims_[f"{p}_cond_sigma"] = [f"{p}_offset"]
            dims_[f"{p}_cond_z"] = ["participant", f"{p}_offset"]
            coords[f"{p}_condition"] = _coord(d.condition_levels)
            coords[f"{p}_offset"] = _coord(d.condition_levels[1:])
    return dims_, coords


def _coord(levels) -> np.ndarray:
    arr = np.asarray(levels)
    return arr.astype(str) if arr.dtype == object else arr

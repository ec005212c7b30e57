"""From a long table of trials to padded ``(participant, trial)`` arrays.

Everything is validated here, before anything is compiled: a bad table fails with a
:class:`DataError` naming the column, the participant and the row.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Accepted spellings of each canonical column (compared case-, space-, dash- and underscore-insensitively).
ALIASES: dict[str, tuple[str, ...]] = {
    "participant": ("participant", "subjid", "subject", "participantid", "subjectid", "subj", "sub"),
    "trial": ("trial", "trialnum", "trialnumber", "trialindex"),
    "choice": ("choice", "keypressed"),  # hBayesDM's go/no-go files record the choice as keyPressed
    "outcome": ("outcome", "reward"),
    "block": ("block", "blocknumber", "blocknum"),
}


class DataError(ValueError):
    """A table cannot be used as it is; the message says where and what is allowed."""


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-\.]", "", str(name)).lower()


@dataclass(frozen=True)
class Dataset:
    """Trials padded to a ``(participant, trial)`` rectangle.

    Attributes
    ----------
    participants : numpy.ndarray, shape (participant,)
        Original participant ids, in order of first appearance.
    arrays : dict of str to numpy.ndarray, each shape (participant, trial)
        ``choice`` (int, 0-based, 0 where not valid), ``valid`` (bool: a real trial with a
        choice), ``block_start`` (bool) and every model column (float, 0 where not valid).
    n_trials : numpy.ndarray, shape (participant,)
        Rows per participant (including rows with a missing choice).
    row_index : numpy.ndarray, shape (participant, trial)
        Position of each cell's row in the input table, -1 for padding.
    choice_base : int
        0 or 1: how choices were coded in the input.
    n_options : int
        Number of options.
    column_map : dict of str to str
        Canonical column name to the input's column name.
    """

    participants: np.ndarray
    arrays: dict
    n_trials: np.ndarray
    row_index: np.ndarray
    choice_base: int
    n_options: int
    column_map: dict

    @property
    def n_participants(self) -> int:
        """Number of participants."""
        return len(self.participants)

    @property
    def max_trials(self) -> int:
        """Length of the padded trial axis (the most rows any participant has)."""
        return self.row_index.shape[1]

    @property
    def n_masked(self) -> np.ndarray:
        """Rows per participant that carry no choice (masked), shape (participant,)."""
        real = self.row_index >= 0
        return (real & ~self.arrays["valid"]).sum(axis=1)

    def trials(self, model):
        """Build the ``trial`` NamedTuple for ``model``, each field shape (participant, trial)."""
        import jax

        missing = [c for c in model.trial_type._fields if c not in self.arrays]
        if missing:
            raise DataError(f"model {model.name!r} needs columns {missing} that this data set lacks")
        # device_put, not jnp.asarray: a plain transfer (dtypes canonicalised as JAX's precision
        # says), where jnp.asarray compiles a small program for every new shape
        return model.trial_type(**{f: jax.device_put(self.arrays[f]) for f in model.trial_type._fields})


def trial_bucket(n_trials: int) -> int:
    """The padded trial-axis length a fit compiles for: ``n_trials`` rounded up a little.

    Data sets whose longest participant differs by a few trials share one length, so they
    share one compiled sampler. The length is the smallest multiple of
    ``max(4, 2 ** (n_trials.bit_length() - 5))`` that is at least ``n_trials``: 100 stays
    100 (97 to 100 all give 100), 101 gives 104, 200 stays 200, 1000 gives 1024. The extra
    trials are masked, so they cost at most ``1/16`` more work and change no result.

    Parameters
    ----------
    n_trials : int
        The longest participant's trial count (``Dataset.max_trials``), at least 1.

    Returns
    -------
    int
        The bucketed length, ``n_trials <= length < n_trials + max(4, n_trials / 16)``.
    """
    n = int(n_trials)
    if n < 1:
        raise ValueError(f"n_trials must be at least 1, got {n_trials!r}")
    step = max(4, 2 ** (n.bit_length() - 5))
    return -(-n // step) * step


def pad_trials(trials, length: int):
    """Pad the trial axis (axis 1) of every field to ``length`` with masked trials.

    The added trials carry zeros (``valid`` and ``block_start`` False), as :func:`prepare`
    pads participants with fewer trials: no choice is observed on them and the learner's
    state passes through unchanged, so every likelihood and gradient is that of the
    unpadded data.

    Parameters
    ----------
    trials : NamedTuple (or other pytree) of arrays, each shape (participant, trial, ...)
    length : int
        The new trial-axis length, at least the current one.

    Returns
    -------
    The same structure, each array shape (participant, length, ...); ``trials`` itself when
    it already has ``length`` trials.
    """
    import jax

    leaves = jax.tree_util.tree_leaves(trials)
    if not leaves:
        return trials
    n_t = leaves[0].shape[1]
    if length < n_t:
        raise ValueError(f"cannot pad {n_t} trials to {length}")
    if length == n_t:
        return trials

    def pad(x):
        # on the host (the data are small): jnp.pad would compile a program for each input shape
        x = np.asarray(x)
        widths = [(0, 0)] * x.ndim
        widths[1] = (0, length - n_t)
        return jax.device_put(np.pad(x, widths))

    return jax.tree_util.tree_map(pad, trials)


def read_table(data, sep: str | None = None) -> pd.DataFrame:
    r"""Read a DataFrame or a CSV/TSV file (separator sniffed from the extension or content).

    Parameters
    ----------
    data : pandas.DataFrame or path-like
        A long table, one row per trial.
    sep : str, optional
        Field separator for files; default ``"\t"`` for ``.tsv``/``.txt``, else sniffed.

    Returns
    -------
    pandas.DataFrame
        The input itself when it is a DataFrame (never modified), else the file read.
    """
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        if not os.path.exists(path):
            raise DataError(f"no such data file: {path}")
        if sep is None and path.lower().endswith((".tsv", ".txt", ".tab")):
            sep = "\t"
        return pd.read_csv(path, sep=sep, engine="python") if sep is None else pd.read_csv(path, sep=sep)
    raise DataError(f"data must be a pandas DataFrame or a path to a CSV/TSV file, got {type(data).__name__}")


def resolve_columns(df: pd.DataFrame, required, optional=("trial", "block"), columns=None) -> dict:
    """Map canonical column names to the table's columns.

    Parameters
    ----------
    df : pandas.DataFrame
    required : iterable of str
        Canonical names that must be found (``participant``, ``choice``, model columns).
    optional : iterable of str
        Canonical names used when present.
    columns : mapping, optional
        Explicit ``{canonical: table column}``; a value of None ignores an optional column.

    Returns
    -------
    dict
        ``{canonical: table column}`` for every column found.
    """
    columns = dict(columns or {})
    wanted = list(dict.fromkeys([*required, *optional]))
    unknown = sorted(set(columns) - set(wanted))
    if unknown:
        raise DataError(f"columns= names {unknown}, which this model does not use; it uses {wanted}")
    by_norm: dict[str, list[str]] = {}
    for col in df.columns:
        by_norm.setdefault(_norm(col), []).append(col)
    found = {}
    for canon in wanted:
        if canon in columns:
            src = columns[canon]
            if src is None:
                if canon in required:
                    raise DataError(f"column {canon!r} is required and cannot be mapped to None")
                continue
            if src not in df.columns:
                raise DataError(
                    f"columns={{{canon!r}: {src!r}}}: the table has no column {src!r}; "
                    f"its columns are {list(map(str, df.columns))}"
                )
            found[canon] = src
            continue
        aliases = ALIASES.get(canon, (canon,))
        hits = [c for a in aliases for c in by_norm.get(_norm(a), [])]
        hits = list(dict.fromkeys(hits))
        if len(hits) > 1:
            raise DataError(f"columns {hits} all match {canon!r}; say which one with columns={{{canon!r}: ...}}")
        if hits:
            found[canon] = hits[0]
        elif canon in required:
            raise DataError(
                f"missing required column {canon!r} (accepted names: {', '.join(aliases)}; or map it "
                f"with columns={{{canon!r}: 'your_name'}}); the table has columns {list(map(str, df.columns))}"
            )
    for canon, src in found.items():
        n_same = int((df.columns == src).sum())
        if n_same > 1:
            raise DataError(f"the table has {n_same} columns named {src!r} ({canon}); rename or drop the extra ones")
    return found


def _py(value):
    """Turn a NumPy scalar into the plain Python value, so messages read ``7``, not ``np.int64(7)``."""
    return value.item() if isinstance(value, np.generic) else value


def _where(df, pids, pos) -> str:
    return f"participant {_py(pids[pos])!r}, row {_py(df.index[pos])!r}"


def _numeric(df, col, canon, pids, allow_nan=True) -> np.ndarray:
    raw = df[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"column {col!r} ({canon}) must be numeric; {_where(df, pids, pos)} holds {raw.iloc[pos]!r}")
    out = values.to_numpy(dtype=float)
    if not allow_nan and np.isnan(out).any():
        pos = int(np.flatnonzero(np.isnan(out))[0])
        raise DataError(f"column {col!r} ({canon}) has a missing value at {_where(df, pids, pos)}")
    if np.isinf(out).any():
        pos = int(np.flatnonzero(np.isinf(out))[0])
        raise DataError(f"column {col!r} ({canon}) has an infinite value at {_where(df, pids, pos)}")
    return out


def _ids(uniques) -> np.ndarray:
    """Participant ids as one array type.

    Ints, floats or strings stay as they are; a mix of types (e.g. 7 and "s07") becomes
    strings so the ids can be stored in netCDF.
    """
    ids = np.asarray(uniques)
    if ids.dtype == object:
        kinds = {type(x) for x in ids}
        if kinds <= {str}:
            return ids.astype(str)
        return np.asarray([str(x) for x in ids])
    return ids


def decide_choice_base(choices: np.ndarray, n_options: int, choice_col: str, choice_base=None) -> int:
    """Decide whether choices are coded 0..K-1 or 1..K over the whole table.

    Parameters
    ----------
    choices : numpy.ndarray, shape (row,)
        Integer-valued floats, NaN for missing.
    n_options : int
    choice_col : str
        Column name, for messages.
    choice_base : {None, 0, 1}
        Explicit coding; None decides from the data.

    Returns
    -------
    int
        0 or 1.
    """
    seen = np.unique(choices[~np.isnan(choices)]).astype(int)
    if choice_base is not None:
        if choice_base not in (0, 1):
            raise DataError(f"choice_base must be 0, 1 or None, got {choice_base!r}")
        return int(choice_base)
    if seen.size == 0:
        raise DataError(f"column {choice_col!r} has no choices (all missing)")
    if 0 in seen:
        return 0
    if n_options in seen:
        return 1
    if seen.min() < 0 or seen.max() > n_options:
        # Out of range under either coding: not ambiguous but wrong; the caller's range check
        # then names the participant and row (against the hBayesDM default 1..K).
        return 1
    raise DataError(
        f"column {choice_col!r} holds only {seen.tolist()}, which could be coded 0..{n_options - 1} or "
        f"1..{n_options}; pass choice_base=0 or choice_base=1"
    )


def _decide_stage_base(choices: dict, stage_specs, cmap: dict, choice_base) -> int:
    """One coding (0- or 1-based) for every stage's choices: the first stage that decides it."""
    if choice_base is not None or len(stage_specs) == 1:
        col, k = stage_specs[0]
        return decide_choice_base(choices[col], k, cmap[col], choice_base)
    errors = []
    for col, k in stage_specs:
        try:
            return decide_choice_base(choices[col], k, cmap[col], None)
        except DataError as err:
            errors.append(str(err))
    raise DataError("; ".join(errors))


def prepare(
    data,
    model=None,
    *,
    required=("outcome",),
    n_options: int | None = None,
    columns: Mapping[str, str | None] | None = None,
    choice_base: int | None = None,
    sep: str | None = None,
) -> Dataset:
    """Validate a long table and pad it to ``(participant, trial)`` arrays.

    Parameters
    ----------
    data : pandas.DataFrame or path-like
        One row per trial. Columns are found by name, case- and underscore-insensitively,
        with aliases (``subjID``/``subject`` for ``participant``, ``reward`` for ``outcome``...).
    model : bayesrl.Model, optional
        Supplies the required columns and ``n_options``; a model with ``stages`` reads one
        choice column per stage (e.g. ``level1_choice``, ``level2_choice``), and a row missing
        any of them is masked.
    required : tuple of str
        Model columns needed besides ``participant`` and ``choice`` (when ``model`` is None).
    n_options : int, optional
        Number of options (when ``model`` is None).
    columns : mapping, optional
        Explicit ``{canonical name: table column}``; overrides the aliases.
    choice_base : {None, 0, 1}
        How choices are coded; None decides over the whole table (any 0 means 0-based, any
        ``K`` means 1-based, a value outside 0..K is out of range either way, otherwise an error
        asks).
    sep : str, optional
        Separator when ``data`` is a file path.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        For a missing column, a non-numeric or non-integer choice, a choice out of range,
        a missing outcome on a trial with a choice, duplicate (participant, trial) rows, an
        empty table, or a participant with no valid trial.
    """
    if model is not None:
        required, n_options = model.columns, model.n_options
        if choice_base is None:
            choice_base = model.choice_base
    n_options = int(n_options or 2)
    if model is not None and model.stages:
        stage_specs = [(s.column, s.n_options) for s in model.stages]
    else:
        stage_specs = [("choice", n_options)]
    df = read_table(data, sep)
    if len(df) == 0:
        raise DataError("the table is empty: no trials to fit")
    cmap = resolve_columns(df, ("participant", *(c for c, _ in stage_specs), *required), columns=columns)

    pid_col = cmap["participant"]
    pid_series = df[pid_col]
    if pid_series.isna().any():
        pos = int(np.flatnonzero(pid_series.isna().to_numpy())[0])
        raise DataError(f"column {pid_col!r} (participant) is missing at row {df.index[pos]!r}")
    pids = pid_series.to_numpy()

    # One choice column per stage (``choice`` for a model without stages).
    choices = {}
    for col, _ in stage_specs:
        values = _numeric(df, cmap[col], col, pids)
        frac = ~np.isnan(values) & (values != np.round(values))
        if frac.any():
            pos = int(np.flatnonzero(frac)[0])
            raise DataError(
                f"column {cmap[col]!r} must hold whole option numbers; {_where(df, pids, pos)} holds {values[pos]:g}"
            )
        choices[col] = values
    base = _decide_stage_base(choices, stage_specs, cmap, choice_base)
    for col, k in stage_specs:
        values = choices[col]
        out = ~np.isnan(values) & ((values < base) | (values > base + k - 1))
        if out.any():
            pos = int(np.flatnonzero(out)[0])
            raise DataError(
                f"column {cmap[col]!r}: {_where(df, pids, pos)} holds {values[pos]:g}, outside {base}..{base + k - 1} "
                f"(the model has {k} options{'' if col == 'choice' else ' at this stage'}, choices coded from {base})"
            )
    # A trial counts when every stage's choice is there; a partly answered trial is masked whole.
    ok = np.all([~np.isnan(v) for v in choices.values()], axis=0)

    extra = {}
    for canon in required:
        vals = _numeric(df, cmap[canon], canon, pids)
        miss = ok & np.isnan(vals)
        if miss.any():
            pos = int(np.flatnonzero(miss)[0])
            raise DataError(
                f"column {cmap[canon]!r} ({canon}) is missing at {_where(df, pids, pos)}, a trial with a "
                f"choice; give it a value or set that trial's choice to missing to mask it"
            )
        extra[canon] = vals

    # Order trials within participant (participants in order of first appearance).
    codes, uniques = pd.factorize(pid_series, sort=False)
    bcodes = None
    if "block" in cmap:
        bvals = df[cmap["block"]]
        if bvals.isna().any():
            pos = int(np.flatnonzero(bvals.isna().to_numpy())[0])
            raise DataError(f"column {cmap['block']!r} (block) is missing at {_where(df, pids, pos)}")
        bcodes = pd.factorize(bvals)[0].astype(np.int64)
    sort_keys = [np.arange(len(df))]  # np.lexsort: the last key is the primary one
    if "trial" in cmap:
        tvals = _numeric(df, cmap["trial"], "trial", pids, allow_nan=False)
        keys = pd.DataFrame({"p": codes, "t": tvals})
        if bcodes is not None and keys.duplicated().any():
            # Trial numbers restart in each block (hBayesDM's multiple-block files): order
            # blocks as they first appear in the participant's rows, then by trial.
            keys["b"] = bcodes
            block_first_row = pd.Series(np.arange(len(df))).groupby([codes, bcodes]).transform("min").to_numpy()
            sort_keys.append(tvals)
            sort_keys.append(block_first_row)
        else:
            sort_keys.append(tvals)
        dup = keys.duplicated(keep=False).to_numpy()
        if dup.any():
            first = np.flatnonzero(dup)[0]
            same = dup & (codes == codes[first]) & (tvals == tvals[first])
            where = ""
            if "b" in keys:
                same &= bcodes == bcodes[first]
                where = f", {cmap['block']} {_py(df[cmap['block']].iloc[first])!r}"
            rows = np.flatnonzero(same)
            raise DataError(
                f"duplicate rows for participant {_py(pids[first])!r}{where}, {cmap['trial']} {tvals[first]:g}: "
                f"rows {[_py(df.index[r]) for r in rows]}"
            )
    order = np.lexsort((*sort_keys, codes))  # by participant, [block,] trial value, then row

    n_p = len(uniques)
    counts = np.bincount(codes, minlength=n_p)
    n_t = int(counts.max())
    sorted_codes = codes[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos_in_p = np.arange(len(df)) - starts[sorted_codes]

    def pad(values, fill, dtype):
        arr = np.full((n_p, n_t), fill, dtype=dtype)
        arr[sorted_codes, pos_in_p] = values[order]
        return arr

    row_index = pad(np.arange(len(df)), -1, np.int64)
    valid = pad(ok, False, bool)
    no_valid = ~valid.any(axis=1)
    if no_valid.any():
        bad = [_py(uniques[i]) for i in np.flatnonzero(no_valid)]
        raise DataError(f"participant(s) {bad} have no valid trial (every choice is missing)")
    coded = [pad(np.where(ok, choices[c] - base, 0).astype(np.int32), 0, np.int32) for c, _ in stage_specs]
    arrays = {
        "choice": coded[0] if model is None or not model.stages else np.stack(coded, axis=-1),
        "valid": valid,
    }
    for canon, vals in extra.items():
        arrays[canon] = pad(np.where(ok, vals, 0.0), 0.0, np.float64)
    block_start = np.zeros((n_p, n_t), dtype=bool)
    if bcodes is not None:
        padded = pad(bcodes, -1, np.int64)
        block_start[:, 1:] = (padded[:, 1:] != padded[:, :-1]) & (row_index[:, 1:] >= 0)
    arrays["block_start"] = block_start

    return Dataset(
        participants=_ids(uniques),
        arrays=arrays,
        n_trials=counts,
        row_index=row_index,
        choice_base=base,
        n_options=n_options,
        column_map=cmap,
    )

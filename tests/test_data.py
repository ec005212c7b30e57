"""Data preparation: column finding, validation messages and padding (``bayesrl.data``)."""

import copy
import re

import numpy as np
import pandas as pd
import pytest

import bayesrl as brl
from bayesrl.data import ALIASES, Dataset, decide_choice_base, prepare, resolve_columns


@pytest.fixture(scope="module")
def rw():
    return brl.models.rescorla_wagner()


def table(participant, choice, outcome=None, **extra) -> pd.DataFrame:
    """A long table; ``outcome`` defaults to alternating 1/0."""
    n = len(choice)
    if outcome is None:
        outcome = [float(i % 2) for i in range(n)]
    return pd.DataFrame({"participant": participant, "choice": choice, "outcome": outcome, **extra})


def two_by_three(**extra) -> pd.DataFrame:
    """Participants 1 and 2, three trials each, choices 1/2 (1-based)."""
    return table([1, 1, 1, 2, 2, 2], [1, 2, 1, 2, 2, 1], [1.0, 0.0, 1.0, 0.5, 0.0, 1.0], **extra)


def message(excinfo) -> str:
    return str(excinfo.value)


# --------------------------------------------------------------------------------------------
# Errors: every message names the column, and the participant and row where there is one.
# --------------------------------------------------------------------------------------------


def test_data_error_is_a_value_error():
    assert issubclass(brl.DataError, ValueError)
    assert brl.DataError is brl.data.DataError


def test_missing_required_column_names_it_and_lists_accepted_names(rw):
    df = pd.DataFrame({"subjID": [1, 1], "choice": [1, 2], "points": [1.0, 0.0]})
    with pytest.raises(brl.DataError, match=r"missing required column 'outcome'") as exc:
        prepare(df, rw)
    msg = message(exc)
    for alias in ALIASES["outcome"]:
        assert alias in msg
    assert "reward" in msg
    assert "columns={'outcome': 'your_name'}" in msg
    # ... and what the table does have
    assert "'subjID'" in msg and "'points'" in msg


def test_missing_participant_and_choice_columns(rw):
    with pytest.raises(brl.DataError, match=r"missing required column 'participant'.*subjid"):
        prepare(pd.DataFrame({"choice": [1, 2], "outcome": [1.0, 0.0]}), rw)
    with pytest.raises(brl.DataError, match=r"missing required column 'choice'"):
        prepare(pd.DataFrame({"subject": [1, 1], "response": [1, 2], "outcome": [1.0, 0.0]}), rw)


def test_non_numeric_choice_names_column_participant_and_row(rw):
    df = table(["s01", "s01", "s02", "s02"], [1, 2, "left", 2])
    with pytest.raises(brl.DataError, match=r"column 'choice' \(choice\) must be numeric") as exc:
        prepare(df, rw)
    msg = message(exc)
    assert "participant 's02'" in msg
    assert "row 2" in msg
    assert "'left'" in msg


def test_non_numeric_outcome_names_column_participant_and_row(rw):
    df = table([1, 1, 2], [1, 2, 1], [1.0, "win", 0.0])
    with pytest.raises(brl.DataError, match=r"column 'outcome' \(outcome\) must be numeric") as exc:
        prepare(df, rw)
    assert "participant 1, row 1" in message(exc)
    assert "'win'" in message(exc)


def test_non_integer_choice(rw):
    df = table([7, 7, 8, 8], [1, 2, 1.5, 2])
    with pytest.raises(brl.DataError, match=r"column 'choice' must hold whole option numbers") as exc:
        prepare(df, rw)
    msg = message(exc)
    # plain values, not NumPy reprs such as np.int64(8) or np.float64(1.5)
    assert "participant 8, row 2 holds 1.5" in msg
    assert "np." not in msg


def test_row_is_the_index_label(rw):
    df = table([7, 7, 8, 8], [1, 2, 1.5, 2])
    df.index = [100, 101, 102, 103]
    with pytest.raises(brl.DataError, match=r"participant 8, row 102 holds 1\.5"):
        prepare(df, rw)


def test_infinite_outcome(rw):
    df = table([1, 1, 2], [1, 2, 1], [1.0, np.inf, 0.0])
    with pytest.raises(
        brl.DataError, match=r"column 'outcome' \(outcome\) has an infinite value at participant 1, row 1"
    ):
        prepare(df, rw)


def test_choice_above_k_one_based(rw):
    df = table([1, 1, 1, 2, 2, 2], [1, 2, 1, 2, 3, 1])
    with pytest.raises(brl.DataError, match=r"column 'choice': participant 2, row 4 holds 3, outside 1\.\.2") as exc:
        prepare(df, rw)
    assert "2 options" in message(exc)


def test_negative_choice(rw):
    df = table([1, 1, 2, 2], [1, 2, -1, 2])
    with pytest.raises(brl.DataError, match=r"column 'choice': participant 2, row 2 holds -1, outside 1\.\.2"):
        prepare(df, rw)
    # 0-based data (a 0 is present): still out of range
    df = table([1, 1, 2, 2], [0, 1, -1, 1])
    with pytest.raises(brl.DataError, match=r"participant 2, row 2 holds -1, outside 0\.\.1"):
        prepare(df, rw)


def test_out_of_range_under_either_coding_is_not_reported_as_ambiguous(rw):
    # Only 1 and 3 with K=2: no 0 and no 2, but 3 fits neither coding, so asking for
    # choice_base would be misleading; the message must point at the bad row instead.
    for bad in (3, -1):
        df = table([1, 1, 2, 2], [1, 1, bad, 1])
        with pytest.raises(brl.DataError, match=rf"participant 2, row 2 holds {bad}, outside") as exc:
            prepare(df, rw)
        assert "choice_base=0 or" not in message(exc)


def test_choice_out_of_range_with_explicit_zero_base(rw):
    df = table([1, 1, 2, 2], [0, 1, 2, 1])
    with pytest.raises(brl.DataError, match=r"column 'choice': participant 2, row 2 holds 2, outside 0\.\.1") as exc:
        prepare(df, rw, choice_base=0)
    assert "coded from 0" in message(exc)
    # and with auto-detection the 0 decides 0-based, so the 2 is out of range as well
    with pytest.raises(brl.DataError, match=r"holds 2, outside 0\.\.1"):
        prepare(df, rw)


def test_choice_zero_with_explicit_one_base(rw):
    df = table([1, 1, 2, 2], [1, 2, 0, 1])
    with pytest.raises(brl.DataError, match=r"participant 2, row 2 holds 0, outside 1\.\.2"):
        prepare(df, rw, choice_base=1)


def test_three_options_range(rw):
    df = table([1, 1, 1], [1, 3, 4])
    with pytest.raises(brl.DataError, match=r"holds 4, outside 1\.\.3 \(the model has 3 options"):
        prepare(df, brl.models.rescorla_wagner(n_options=3))
    ds = prepare(table([1, 1, 1], [1, 3, 2]), brl.models.rescorla_wagner(n_options=3))
    assert ds.n_options == 3 and ds.choice_base == 1
    np.testing.assert_array_equal(ds.arrays["choice"], [[0, 2, 1]])


def test_ambiguous_coding_asks_for_choice_base(rw):
    df = table([1, 1, 2, 2], [1, 1, 1, 1])
    with pytest.raises(brl.DataError, match=r"column 'choice' holds only \[1\].*choice_base=0 or choice_base=1") as exc:
        prepare(df, rw)
    msg = message(exc)
    assert "0..1" in msg and "1..2" in msg


def test_explicit_choice_base_resolves_ambiguity(rw):
    df = table([1, 1, 2, 2], [1, 1, 1, 1])
    one = prepare(df, rw, choice_base=1)
    assert one.choice_base == 1
    np.testing.assert_array_equal(one.arrays["choice"], [[0, 0], [0, 0]])
    zero = prepare(df, rw, choice_base=0)
    assert zero.choice_base == 0
    np.testing.assert_array_equal(zero.arrays["choice"], [[1, 1], [1, 1]])


def test_invalid_choice_base_value(rw):
    with pytest.raises(brl.DataError, match=r"choice_base must be 0, 1 or None, got 2"):
        prepare(two_by_three(), rw, choice_base=2)


def test_decide_choice_base_directly():
    nan = np.nan
    assert decide_choice_base(np.array([0.0, 1.0, nan]), 2, "c") == 0
    assert decide_choice_base(np.array([1.0, 2.0, nan]), 2, "c") == 1
    assert decide_choice_base(np.array([1.0, 1.0]), 2, "c", choice_base=0) == 0
    with pytest.raises(brl.DataError, match=r"column 'c' holds only \[1, 2\]"):
        decide_choice_base(np.array([1.0, 2.0]), 3, "c")
    with pytest.raises(brl.DataError, match=r"column 'c' has no choices \(all missing\)"):
        decide_choice_base(np.array([nan, nan]), 2, "c")


def test_nan_outcome_on_a_chosen_trial_names_participant_and_row(rw):
    df = table(["a", "a", "b", "b"], [1, 2, 2, 1], [1.0, 0.0, np.nan, 1.0])
    with pytest.raises(
        brl.DataError, match=r"column 'outcome' \(outcome\) is missing at participant 'b', row 2"
    ) as exc:
        prepare(df, rw)
    assert "mask" in message(exc)


def test_nan_outcome_on_a_masked_trial_is_fine(rw):
    df = table(["a", "a", "b", "b"], [1, 2, np.nan, 1], [1.0, 0.0, np.nan, 1.0])
    ds = prepare(df, rw)
    np.testing.assert_array_equal(ds.arrays["valid"], [[True, True], [False, True]])
    assert ds.arrays["outcome"][1, 0] == 0.0  # filled, not NaN
    assert np.isfinite(ds.arrays["outcome"]).all()


def test_duplicate_participant_trial_rows(rw):
    df = pd.DataFrame(
        {
            "subjID": ["s01", "s01", "s02", "s02", "s02"],
            "trial": [1, 2, 1, 2, 2],
            "choice": [1, 2, 1, 2, 1],
            "outcome": [1.0, 0.0, 1.0, 0.0, 1.0],
        }
    )
    with pytest.raises(brl.DataError, match=r"duplicate rows for participant 's02', trial 2: rows \[3, 4\]"):
        prepare(df, rw)


def test_duplicate_rows_with_integer_ids_read_plainly(rw):
    df = table([7, 7, 8], [1, 2, 1], trial=[1, 1, 1])
    df.index = [10, 11, 12]
    with pytest.raises(brl.DataError, match=r"duplicate rows for participant 7, trial 1: rows \[10, 11\]") as exc:
        prepare(df, rw)
    assert "np." not in message(exc)


def test_same_trial_number_in_different_participants_is_fine(rw):
    ds = prepare(two_by_three(trial=[1, 2, 3, 1, 2, 3]), rw)
    assert ds.max_trials == 3


def test_missing_trial_value(rw):
    df = two_by_three(trial=[1, 2, 3, 1, np.nan, 3])
    with pytest.raises(brl.DataError, match=r"column 'trial' \(trial\) has a missing value at participant 2, row 4"):
        prepare(df, rw)


def test_missing_participant_value(rw):
    df = table([1, 1, None, 2], [1, 2, 1, 2])
    with pytest.raises(brl.DataError, match=r"column 'participant' \(participant\) is missing at row 2"):
        prepare(df, rw)


def test_missing_block_value(rw):
    df = two_by_three(block=[1, 1, 2, 1, np.nan, 1])
    with pytest.raises(brl.DataError, match=r"column 'block' \(block\) is missing at participant 2, row 4"):
        prepare(df, rw)


def test_empty_table(rw):
    with pytest.raises(brl.DataError, match=r"the table is empty"):
        prepare(pd.DataFrame({"participant": [], "choice": [], "outcome": []}), rw)
    with pytest.raises(brl.DataError, match=r"the table is empty"):
        prepare(pd.DataFrame(), rw)


def test_empty_file(tmp_path, rw):
    path = tmp_path / "empty.csv"
    path.write_text("participant,choice,outcome\n")
    with pytest.raises(brl.DataError, match=r"the table is empty"):
        prepare(path, rw)


def test_participant_without_valid_trials(rw):
    df = table(["s01", "s01", "s02", "s02", "s03"], [1, 2, np.nan, np.nan, 2])
    with pytest.raises(brl.DataError, match=r"participant\(s\) \['s02'\] have no valid trial") as exc:
        prepare(df, rw)
    assert "s01" not in message(exc) and "s03" not in message(exc)
    df = table([7, 7, 8, 8], [1, 2, np.nan, np.nan])
    with pytest.raises(brl.DataError, match=r"participant\(s\) \[8\] have no valid trial"):
        prepare(df, rw)


def test_all_choices_missing(rw):
    df = table([1, 1, 2], [np.nan, np.nan, np.nan])
    with pytest.raises(brl.DataError, match=r"column 'choice' has no choices \(all missing\)"):
        prepare(df, rw)


def test_unknown_key_in_columns_mapping(rw):
    with pytest.raises(brl.DataError, match=r"columns= names \['subject'\], which this model does not use") as exc:
        prepare(two_by_three(), rw, columns={"subject": "participant"})
    for canon in ("participant", "choice", "outcome", "trial", "block"):
        assert repr(canon) in message(exc)


def test_columns_mapping_to_a_missing_column(rw):
    with pytest.raises(
        brl.DataError, match=r"columns=\{'outcome': 'points'\}: the table has no column 'points'"
    ) as exc:
        prepare(two_by_three(), rw, columns={"outcome": "points"})
    assert "'participant'" in message(exc) and "'choice'" in message(exc)


def test_required_column_cannot_be_mapped_to_none(rw):
    with pytest.raises(brl.DataError, match=r"column 'outcome' is required and cannot be mapped to None"):
        prepare(two_by_three(), rw, columns={"outcome": None})


def test_two_columns_matching_one_canonical_name(rw):
    df = pd.DataFrame({"subjID": [1, 1], "subject": [1, 1], "choice": [1, 2], "outcome": [1.0, 0.0]})
    with pytest.raises(brl.DataError, match=r"columns \['subjID', 'subject'\] all match 'participant'") as exc:
        prepare(df, rw)
    assert "columns={'participant': ...}" in message(exc)
    # saying which one resolves it
    ds = prepare(df, rw, columns={"participant": "subject"})
    assert ds.column_map["participant"] == "subject"


def test_two_columns_matching_outcome(rw):
    df = pd.DataFrame({"participant": [1, 1], "choice": [1, 2], "outcome": [1.0, 0.0], "Reward": [5.0, 5.0]})
    with pytest.raises(brl.DataError, match=r"columns \['outcome', 'Reward'\] all match 'outcome'"):
        prepare(df, rw)
    ds = prepare(df, rw, columns={"outcome": "Reward"})
    np.testing.assert_array_equal(ds.arrays["outcome"], [[5.0, 5.0]])


def test_duplicate_column_labels(rw):
    df = pd.DataFrame([[1, 1, 2, 1.0], [1, 2, 1, 0.0]], columns=["participant", "choice", "choice", "outcome"])
    with pytest.raises(brl.DataError, match=r"the table has 2 columns named 'choice' \(choice\)"):
        prepare(df, rw)


def test_path_that_does_not_exist(tmp_path, rw):
    missing = tmp_path / "nope" / "data.csv"
    with pytest.raises(brl.DataError, match=r"no such data file: .*nope.*data\.csv"):
        prepare(missing, rw)
    with pytest.raises(brl.DataError, match=r"no such data file"):
        prepare(str(missing), rw)


@pytest.mark.parametrize(
    "bad, name",
    [
        ([[1, 1, 1.0]], "list"),
        ({"participant": [1], "choice": [1]}, "dict"),
        (np.ones((2, 3)), "ndarray"),
        (None, "NoneType"),
        (3, "int"),
    ],
)
def test_data_of_a_wrong_type(bad, name, rw):
    with pytest.raises(
        brl.DataError, match=rf"data must be a pandas DataFrame or a path to a CSV/TSV file, got {name}$"
    ):
        prepare(bad, rw)


def test_model_columns_missing_from_dataset(rw):
    ds = prepare(two_by_three(), required=())
    with pytest.raises(brl.DataError, match=r"needs columns \['outcome'\]"):
        ds.trials(rw)


# --------------------------------------------------------------------------------------------
# Behaviour
# --------------------------------------------------------------------------------------------


def hbayesdm_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for sid in (101, 102, 103):
        for t in range(1, 11):
            rows.append((sid, t, int(rng.integers(1, 3)), float(rng.integers(0, 2))))
    df = pd.DataFrame(rows, columns=["subjID", "trial", "choice", "outcome"])
    df.loc[0, "choice"] = 2  # make sure both options occur
    df.loc[1, "choice"] = 1
    return df


def test_hbayesdm_tab_separated_txt(tmp_path, rw):
    df = hbayesdm_table()
    path = tmp_path / "bandit2arm_exampleData.txt"
    df.to_csv(path, sep="\t", index=False)
    assert "\t" in path.read_text().splitlines()[0]

    ds = prepare(path, rw)
    assert isinstance(ds, Dataset)
    assert ds.column_map == {"participant": "subjID", "trial": "trial", "choice": "choice", "outcome": "outcome"}
    assert ds.choice_base == 1
    assert ds.n_options == 2
    np.testing.assert_array_equal(ds.participants, [101, 102, 103])
    assert ds.n_participants == 3 and ds.max_trials == 10
    np.testing.assert_array_equal(ds.n_trials, [10, 10, 10])
    np.testing.assert_array_equal(ds.n_masked, [0, 0, 0])
    expected_choice = df["choice"].to_numpy().reshape(3, 10) - 1
    np.testing.assert_array_equal(ds.arrays["choice"], expected_choice)
    assert set(np.unique(ds.arrays["choice"])) == {0, 1}
    assert ds.arrays["choice"].dtype == np.int32
    np.testing.assert_array_equal(ds.arrays["outcome"], df["outcome"].to_numpy().reshape(3, 10))
    assert ds.arrays["valid"].all()
    assert not ds.arrays["block_start"].any()
    np.testing.assert_array_equal(ds.row_index, np.arange(30).reshape(3, 10))
    trials = ds.trials(rw)
    assert trials._fields == ("choice", "valid", "block_start", "outcome")
    assert trials.choice.shape == (3, 10)


def test_csv_path(tmp_path, rw):
    df = two_by_three(trial=[1, 2, 3, 1, 2, 3])
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    from_file = prepare(path, rw)
    from_str = prepare(str(path), rw)
    from_df = prepare(df, rw)
    for ds in (from_file, from_str):
        np.testing.assert_array_equal(ds.participants, from_df.participants)
        np.testing.assert_array_equal(ds.row_index, from_df.row_index)
        for k in ("choice", "valid", "outcome", "block_start"):
            np.testing.assert_array_equal(ds.arrays[k], from_df.arrays[k])
    np.testing.assert_array_equal(from_file.arrays["choice"], [[0, 1, 0], [1, 1, 0]])


def test_semicolon_file_sniffed_and_explicit_sep(tmp_path, rw):
    path = tmp_path / "data.dat"
    two_by_three().to_csv(path, sep=";", index=False)
    np.testing.assert_array_equal(prepare(path, rw).arrays["choice"], [[0, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(prepare(path, rw, sep=";").arrays["choice"], [[0, 1, 0], [1, 1, 0]])


def test_error_from_a_file_names_participant_and_row(tmp_path, rw):
    path = tmp_path / "data.tsv"
    table(["s01", "s01", "s02"], [1, 2, "x"]).to_csv(path, sep="\t", index=False)
    with pytest.raises(
        brl.DataError, match=r"column 'choice' \(choice\) must be numeric; participant 's02', row 2 holds 'x'"
    ):
        prepare(path, rw)


def test_case_and_underscore_insensitive_matching(rw):
    df = pd.DataFrame(
        {
            "Subj_ID": ["x", "x", "y"],
            "Trial Number": [1, 2, 1],
            "CHOICE": [1, 2, 2],
            "REWARD": [1.0, 0.0, 1.0],
            "Block-Num": [1, 1, 1],
        }
    )
    ds = prepare(df, rw)
    assert ds.column_map == {
        "participant": "Subj_ID",
        "choice": "CHOICE",
        "outcome": "REWARD",
        "trial": "Trial Number",
        "block": "Block-Num",
    }
    np.testing.assert_array_equal(ds.arrays["outcome"], [[1.0, 0.0], [1.0, 0.0]])


def test_explicit_columns_override_aliases(rw):
    df = pd.DataFrame(
        {
            "who": [1, 1, 2],
            "choice": [1, 2, 2],
            "outcome": [9.0, 9.0, 9.0],
            "points": [1.0, 0.0, 0.5],
            "subject": [5, 5, 5],
        }
    )
    ds = prepare(df, rw, columns={"outcome": "points", "participant": "who"})
    assert ds.column_map["outcome"] == "points"
    assert ds.column_map["participant"] == "who"
    np.testing.assert_array_equal(ds.arrays["outcome"], [[1.0, 0.0], [0.5, 0.0]])
    np.testing.assert_array_equal(ds.participants, [1, 2])


def test_resolve_columns_directly():
    df = pd.DataFrame({"SubjID": [1], "Choice": [1], "reward": [1.0], "extra": [0]})
    assert resolve_columns(df, ("participant", "choice", "outcome")) == {
        "participant": "SubjID",
        "choice": "Choice",
        "outcome": "reward",
    }
    # optional columns are simply absent
    assert "trial" not in resolve_columns(df, ("participant",))


def test_zero_based_coding_detected(rw):
    df = table([1, 1, 2, 2], [0, 1, 1, 0])
    ds = prepare(df, rw)
    assert ds.choice_base == 0
    np.testing.assert_array_equal(ds.arrays["choice"], [[0, 1], [1, 0]])


def test_coding_decided_over_the_whole_table(rw):
    # participant 1 only ever picks option "1"; participant 2's 2 shows the table is 1-based
    df = table([1, 1, 2, 2], [1, 1, 1, 2])
    ds = prepare(df, rw)
    assert ds.choice_base == 1
    np.testing.assert_array_equal(ds.arrays["choice"], [[0, 0], [0, 1]])


def test_trials_sorted_by_trial_within_participant(rw):
    ordered = pd.DataFrame(
        {
            "participant": ["a"] * 4 + ["b"] * 3,
            "trial": [1, 2, 3, 4, 1, 2, 3],
            "choice": [1, 2, 2, 1, 2, 1, 1],
            "outcome": [0.1, 0.2, 0.3, 0.4, 1.1, 1.2, 1.3],
        }
    )
    perm = np.random.default_rng(3).permutation(len(ordered))
    shuffled = ordered.iloc[perm].reset_index(drop=True)
    ds = prepare(shuffled, rw)
    # participants in order of first appearance in the shuffled table
    first = list(dict.fromkeys(shuffled["participant"]))
    np.testing.assert_array_equal(ds.participants, first)
    for i, pid in enumerate(first):
        n = (ordered["participant"] == pid).sum()
        rows = ds.row_index[i, :n]
        assert (shuffled.loc[rows, "participant"] == pid).all()
        np.testing.assert_array_equal(shuffled.loc[rows, "trial"], np.arange(1, n + 1))
        np.testing.assert_allclose(ds.arrays["outcome"][i, :n], shuffled.loc[rows, "outcome"])
        np.testing.assert_array_equal(ds.arrays["choice"][i, :n], shuffled.loc[rows, "choice"] - 1)


def test_trial_sorting_is_numeric_not_lexical(rw):
    df = table([1, 1, 1], [1, 2, 2], [0.0, 1.0, 2.0], trial=[10, 9, 2])
    ds = prepare(df, rw)
    np.testing.assert_array_equal(ds.row_index, [[2, 1, 0]])
    np.testing.assert_array_equal(ds.arrays["outcome"], [[2.0, 1.0, 0.0]])


def test_row_order_kept_without_trial_column(rw):
    df = table(["b", "a", "b", "a", "b"], [1, 2, 2, 1, 1], [0.0, 1.0, 2.0, 3.0, 4.0])
    ds = prepare(df, rw)
    assert "trial" not in ds.column_map
    np.testing.assert_array_equal(ds.participants, ["b", "a"])
    np.testing.assert_array_equal(ds.row_index, [[0, 2, 4], [1, 3, -1]])
    np.testing.assert_array_equal(ds.arrays["outcome"], [[0.0, 2.0, 4.0], [1.0, 3.0, 0.0]])


def test_row_index_maps_cells_back_to_input_rows(rw):
    df = table(
        ["p", "q", "p", "q", "p"],
        [2, 1, 1, 2, 2],
        [0.25, 0.5, 0.75, 1.0, 1.25],
        trial=[3, 2, 1, 1, 2],
    )
    df.index = list("vwxyz")  # positions, not labels, are stored in row_index
    ds = prepare(df, rw)
    real = ds.row_index >= 0
    # every input row appears exactly once
    assert sorted(ds.row_index[real].tolist()) == list(range(len(df)))
    for (i, t), r in np.ndenumerate(ds.row_index):
        if r < 0:
            continue
        assert df["participant"].iloc[r] == ds.participants[i]
        assert ds.arrays["outcome"][i, t] == df["outcome"].iloc[r]
        assert ds.arrays["choice"][i, t] == df["choice"].iloc[r] - 1
    np.testing.assert_array_equal(ds.row_index, [[2, 4, 0], [3, 1, -1]])


def test_ragged_participants_are_padded(rw):
    df = table(["a"] * 5 + ["b"] * 2 + ["c"] * 3, [1, 2, 1, 2, 1, 2, 2, 1, 1, 2], [1.0] * 10)
    ds = prepare(df, rw)
    np.testing.assert_array_equal(ds.n_trials, [5, 2, 3])
    assert ds.max_trials == 5
    expected_valid = np.array(
        [[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0]],
        dtype=bool,
    )
    np.testing.assert_array_equal(ds.arrays["valid"], expected_valid)
    np.testing.assert_array_equal(ds.row_index >= 0, expected_valid)
    assert (ds.row_index[~expected_valid] == -1).all()
    # padding is filled with zeros, never NaN or garbage
    assert (ds.arrays["choice"][~expected_valid] == 0).all()
    assert (ds.arrays["outcome"][~expected_valid] == 0.0).all()
    assert not ds.arrays["block_start"][~expected_valid].any()
    np.testing.assert_array_equal(ds.n_masked, [0, 0, 0])
    for key in ("choice", "valid", "outcome", "block_start"):
        assert ds.arrays[key].shape == (3, 5)


def test_nan_choice_masks_the_trial(rw):
    df = table([1, 1, 1, 2, 2], [1, np.nan, 2, np.nan, 2], [1.0, 5.0, 0.0, 1.0, 1.0])
    ds = prepare(df, rw)
    np.testing.assert_array_equal(ds.arrays["valid"], [[True, False, True], [False, True, False]])
    np.testing.assert_array_equal(ds.n_trials, [3, 2])
    np.testing.assert_array_equal(ds.n_masked, [1, 1])
    # masked cells are real rows (row_index >= 0) with neutral values
    np.testing.assert_array_equal(ds.row_index, [[0, 1, 2], [3, 4, -1]])
    assert ds.arrays["choice"][0, 1] == 0 and ds.arrays["outcome"][0, 1] == 0.0
    np.testing.assert_array_equal(ds.arrays["choice"], [[0, 0, 1], [0, 1, 0]])


def test_participant_ids_preserved_in_order_of_first_appearance(rw):
    strings = prepare(table(["s10", "s02", "s10", "s01", "s02"], [1, 2, 1, 2, 1]), rw)
    np.testing.assert_array_equal(strings.participants, ["s10", "s02", "s01"])
    assert list(strings.participants) == ["s10", "s02", "s01"]
    ints = prepare(table([30, 4, 4, 30, 17], [1, 2, 1, 2, 1]), rw)
    assert ints.participants.tolist() == [30, 4, 17]
    assert np.issubdtype(ints.participants.dtype, np.integer)
    np.testing.assert_array_equal(ints.n_trials, [2, 2, 1])


def test_block_start_marks_new_blocks_not_first_trials(rw):
    df = pd.DataFrame(
        {
            "participant": [1] * 6 + [2] * 4,
            "trial": [1, 2, 3, 4, 5, 6, 1, 2, 3, 4],
            "block": [1, 1, 2, 2, 2, 3, 5, 5, 5, 6],
            "choice": [1, 2, 1, 2, 1, 2, 2, 1, 2, 1],
            "outcome": [1.0] * 10,
        }
    )
    ds = prepare(df, rw)
    assert ds.column_map["block"] == "block"
    np.testing.assert_array_equal(
        ds.arrays["block_start"],
        [
            [False, False, True, False, False, True],
            [False, False, False, True, False, False],
        ],
    )


def test_block_start_follows_trial_order_and_string_blocks(rw):
    df = pd.DataFrame(
        {
            "participant": ["a"] * 4,
            "trial": [4, 3, 2, 1],
            "block": ["late", "late", "early", "early"],
            "choice": [1, 2, 1, 2],
            "outcome": [1.0, 0.0, 1.0, 0.0],
        }
    )
    ds = prepare(df, rw)
    np.testing.assert_array_equal(ds.arrays["block_start"], [[False, False, True, False]])


def test_block_column_can_be_ignored(rw):
    df = two_by_three(block=[1, 2, 3, 1, 2, 3])
    assert prepare(df, rw).arrays["block_start"].any()
    ds = prepare(df, rw, columns={"block": None})
    assert "block" not in ds.column_map
    assert not ds.arrays["block_start"].any()
    # ignoring it also skips its validation
    df_nan = two_by_three(block=[1, np.nan, 3, 1, 2, 3])
    assert not prepare(df_nan, rw, columns={"block": None}).arrays["block_start"].any()


def test_trial_column_can_be_ignored(rw):
    df = two_by_three(trial=[3, 2, 1, 1, 2, 3])
    assert prepare(df, rw).row_index[0].tolist() == [2, 1, 0]
    ds = prepare(df, rw, columns={"trial": None})
    assert ds.row_index[0].tolist() == [0, 1, 2]


def test_prepare_without_model(rw):
    df = table([1, 1, 1], [1, 2, 3], reward2=[1.0, 2.0, 3.0]).rename(columns={"outcome": "o"})
    ds = prepare(df, required=("reward2",), n_options=3)
    assert ds.n_options == 3 and ds.choice_base == 1
    np.testing.assert_array_equal(ds.arrays["reward2"], [[1.0, 2.0, 3.0]])
    assert "outcome" not in ds.arrays


def test_nullable_and_string_dtypes(rw):
    df = table(["s1", "s1", "s2", "s2"], [1, 2, None, 2], [1, 0, 1, 0]).convert_dtypes()
    ds = prepare(df, rw)
    np.testing.assert_array_equal(ds.arrays["valid"], [[True, True], [False, True]])
    np.testing.assert_array_equal(ds.participants, ["s1", "s2"])


# --------------------------------------------------------------------------------------------
# The user's DataFrame is never modified
# --------------------------------------------------------------------------------------------


def _assert_unchanged(df, before):
    pd.testing.assert_frame_equal(df, before, check_dtype=True, check_index_type=True, check_column_type=True)
    assert list(df.dtypes) == list(before.dtypes)
    assert df.index.equals(before.index)


def test_dataframe_not_modified_on_success(rw):
    df = pd.DataFrame(
        {
            "subjID": ["s2", "s1", "s2", "s1", "s2"],
            "trial": [2, 2, 1, 1, 3],
            "block": [1, 1, 1, 1, 2],
            "choice": [1, 2, np.nan, 1, 2],
            "REWARD": [1, 0, 1, 0, 1],
        },
        index=[50, 40, 30, 20, 10],
    )
    before = copy.deepcopy(df)
    ds = prepare(df, rw)
    _assert_unchanged(df, before)
    # and the arrays do not alias the frame's data
    ds.arrays["outcome"][:] = -99.0
    ds.arrays["choice"][:] = 7
    _assert_unchanged(df, before)


@pytest.mark.parametrize(
    "mutate, kwargs, pattern",
    [
        (lambda d: d.assign(choice=[1, 2, "left", 1, 2]), {}, "must be numeric"),
        (lambda d: d.assign(choice=[1, 2, 1.5, 1, 2]), {}, "whole option numbers"),
        (lambda d: d.assign(choice=[1, 2, 3, 1, 2]), {}, "outside 1..2"),
        (lambda d: d.assign(choice=[1, 1, 1, 1, 1]), {}, "choice_base"),
        (lambda d: d.assign(REWARD=[1, 0, np.nan, 0, 1]), {}, "is missing"),
        (lambda d: d.assign(trial=[2, 2, 2, 1, 3]), {}, "duplicate rows"),
        (lambda d: d.assign(choice=[1, np.nan, 2, np.nan, 1]), {}, "no valid trial"),
        (lambda d: d, {"columns": {"outcome": "nope"}}, "no column 'nope'"),
    ],
)
def test_dataframe_not_modified_on_failure(mutate, kwargs, pattern, rw):
    df = mutate(
        pd.DataFrame(
            {
                "subjID": ["s2", "s1", "s2", "s1", "s2"],
                "trial": [2, 2, 1, 1, 3],
                "choice": [1, 2, 2, 1, 2],
                "REWARD": [1, 0, 1, 0, 1],
            },
            index=[50, 40, 30, 20, 10],
        )
    )
    before = copy.deepcopy(df)
    with pytest.raises(brl.DataError, match=re.escape(pattern)):
        prepare(df, rw, **kwargs)
    _assert_unchanged(df, before)


# --------------------------------------------------------------------------------------------
# brl.fit validates before it samples
# --------------------------------------------------------------------------------------------


def test_fit_raises_data_error_before_sampling(monkeypatch, rw):
    import bayesrl.api

    def no_sampling(*args, **kwargs):  # pragma: no cover - reaching it is the failure
        raise AssertionError("the sampler ran on invalid data")

    monkeypatch.setattr(bayesrl.api, "run_nuts", no_sampling)
    bad = table([1, 1, 2, 2], [1, 2, "left", 2])
    before = copy.deepcopy(bad)
    with pytest.raises(
        brl.DataError, match=r"column 'choice' \(choice\) must be numeric; participant 2, row 2 holds 'left'"
    ):
        brl.fit(rw, bad, num_warmup=0, num_samples=1, num_chains=1, progress_bar=False, check=False)
    _assert_unchanged(bad, before)
    with pytest.raises(brl.DataError, match=r"holds only \[1\]"):
        brl.fit(rw, table([1, 1], [1, 1]), num_warmup=0, num_samples=1, num_chains=1, progress_bar=False)


def test_fit_passes_columns_and_choice_base_to_prepare(monkeypatch, rw):
    import bayesrl.api

    monkeypatch.setattr(bayesrl.api, "run_nuts", lambda *a, **k: pytest.fail("the sampler ran on invalid data"))
    df = table([1, 1], [1, 2]).rename(columns={"outcome": "points"})
    with pytest.raises(brl.DataError, match=r"missing required column 'outcome'"):
        brl.fit(rw, df, num_warmup=0, num_samples=1, num_chains=1, progress_bar=False)
    with pytest.raises(brl.DataError, match=r"participant 1, row 1 holds 2, outside 0\.\.1"):
        brl.fit(rw, df, columns={"outcome": "points"}, choice_base=0, num_warmup=0, num_samples=1, num_chains=1)


def test_trial_numbers_restarting_in_each_block_are_ordered_by_block_then_trial():
    # hBayesDM's multiple-block files number trials from 1 in every block
    df = pd.DataFrame(
        {
            "subjID": [1, 1, 1, 1, 1, 2, 2, 2, 2],
            "block": [1, 1, 2, 2, 2, 2, 2, 1, 1],  # participant 2 did block 2 first
            "trial": [2, 1, 1, 3, 2, 1, 2, 1, 2],
            "choice": [1, 2, 1, 2, 1, 2, 1, 2, 1],
            "outcome": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        }
    )
    rw = brl.models.rescorla_wagner()
    data = prepare(df, rw)
    np.testing.assert_array_equal(data.arrays["outcome"][0], [2.0, 1.0, 3.0, 5.0, 4.0])
    np.testing.assert_array_equal(data.arrays["block_start"][0], [False, False, True, False, False])
    np.testing.assert_array_equal(data.arrays["outcome"][1, :4], [6.0, 7.0, 8.0, 9.0])
    np.testing.assert_array_equal(data.arrays["block_start"][1, :4], [False, False, True, False])
    dup = df.copy()
    dup.loc[4, "trial"] = 3  # block 2 of participant 1 now has trial 3 twice
    with pytest.raises(brl.DataError, match=r"participant 1, block 2, trial 3: rows \[3, 4\]"):
        prepare(dup, rw)

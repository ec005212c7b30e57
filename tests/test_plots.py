"""Figures of bayesrl.plots on the shared small fit (tests/small_fits.py): axes returned, data drawn, errors."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from small_fits import TASK, small_fit

import bayesrl as brl
from bayesrl import _arviz, plots


@pytest.fixture(scope="module")
def fit():
    return small_fit()


@pytest.fixture(scope="module")
def one_step(fit):
    return fit.posterior_predictive("one_step", num_draws=20, seed=3)  # as tests/test_posterior_predictive.py


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_learning_curve_from_a_ppc_for_a_subset_of_participants(fit, one_step):
    ax = plots.plot_learning_curve(fit, ppc=one_step, participants=["s1", "s3"])
    assert isinstance(ax, Axes) and "2 participants" in ax.get_title() and "one_step" in ax.get_title()
    ids = [str(p) for p in fit.data.participants]
    rows = [ids.index("s1"), ids.index("s3")]
    valid = fit.data.arrays["valid"][rows]
    chose = (fit.data.arrays["choice"][rows] == 0) & valid
    np.testing.assert_allclose(ax.lines[1].get_ydata(), chose.sum(0) / valid.sum(0))  # option 1 pays more
    probs = one_step["choice_prob"].isel(participant=rows, option=0).values  # (chain, draw, participant, trial)
    expected = (np.nan_to_num(probs) * valid).sum(axis=2) / valid.sum(0)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected.reshape(-1, valid.shape[1]).mean(0))
    with pytest.raises(ValueError, match="participants= names ids not in the fit"):
        plots.plot_learning_curve(fit, participants=["s9"])


def test_learning_curve_of_generative_sessions(fit):
    task = brl.tasks.bandit(n_trials=40, **TASK)
    sessions = fit.posterior_predictive(
        "generative", task=task, num_draws=20, seed=4
    )  # compiled by tests/test_posterior_predictive.py
    ax = plots.plot_learning_curve(fit, ppc=sessions, predictive=False)
    assert len(ax.lines[0].get_xdata()) == 40 and "generative" in ax.get_title()
    assert np.all((ax.lines[0].get_ydata() > 0) & (ax.lines[0].get_ydata() < 1))
    with pytest.raises(ValueError, match="ppc must be the Dataset"):
        plots.plot_learning_curve(fit, ppc=sessions[["choice"]])


def test_participant_curves(fit, one_step):
    axes = plots.plot_participant_curves(fit, participants=["s2", "s5"], ppc=one_step, window=5)
    assert axes.shape == (2,) and [a.get_title() for a in axes] == ["s2", "s5"]
    s5 = [str(p) for p in fit.data.participants].index("s5")
    n_valid = int(fit.data.arrays["valid"][s5].sum())
    assert len(axes[1].lines[0].get_xdata()) == n_valid == 32  # s5 was cut short at 32 trials
    chose = axes[1].lines[1].get_ydata()
    assert set(np.unique(chose)) <= {0.0, 1.0}
    np.testing.assert_allclose(axes[1].lines[2].get_ydata()[0], chose[:5].mean())
    _, given = plt.subplots(1, 2)
    assert plots.plot_participant_curves(fit, ["s1", "s2"], ax=given, ppc=one_step)[0] is given[0]
    with pytest.raises(ValueError, match="one per participant"):
        plots.plot_participant_curves(fit, ["s1", "s2", "s3"], ax=given)
    with pytest.raises(ValueError, match="one_step"):
        plots.plot_participant_curves(fit, ["s1"], ppc=one_step.assign_attrs(mode="generative"))


def test_calibration_table_and_plot(fit, one_step):
    table = plots.calibration_table(fit, ppc=one_step, n_bins=5)
    valid = fit.data.arrays["valid"]
    assert table["count"].sum() == 2 * valid.sum()  # every valid trial forecasts both options
    assert ((table["predicted"] >= table["bin_lower"]) & (table["predicted"] <= table["bin_upper"])).all()
    assert (table["band_lower"] <= table["band_upper"]).all()
    # two options: the forecasts of option 2 mirror those of option 1
    np.testing.assert_allclose(table["observed"].to_numpy(), 1 - table["observed"].to_numpy()[::-1])
    forecast = np.asarray(one_step["choice_prob"].mean(("chain", "draw")).values)[valid]  # (trial, option)
    chosen = fit.data.arrays["choice"][valid][:, None] == np.arange(2)
    low = forecast < 0.2
    assert table.iloc[0]["observed"] == pytest.approx(chosen[low].mean()) and table.iloc[0]["count"] == low.sum()
    ax = plots.plot_calibration(fit, ppc=one_step, n_bins=5)
    assert isinstance(ax, Axes) and len(ax.collections[-1].get_offsets()) == len(table)
    with pytest.raises(ValueError, match="one_step"):
        plots.calibration_table(fit, ppc=one_step.assign_attrs(mode="generative"))
    with pytest.raises(ValueError, match="n_bins"):
        plots.calibration_table(fit, ppc=one_step, n_bins=1)


def test_plot_group(fit):
    axes = plots.plot_group(fit)
    assert axes.shape == (2,) and [a.get_xlabel() for a in axes] == ["alpha", "beta"]
    draws = np.asarray(fit.posterior["alpha_group"]).ravel()
    mean_marker = axes[0].lines[0]
    assert mean_marker.get_xdata()[0] == pytest.approx(draws.mean())
    assert axes[0].get_title().startswith("alpha_group = ")
    _, one = plt.subplots()
    assert plots.plot_group(fit, "beta", ax=one, population=False)[0] is one
    with pytest.raises(ValueError, match="unknown parameters"):
        plots.plot_group(fit, ["gamma"])


def test_trace_and_rank_plots_pass_through_arviz(fit):
    axes = plots.plot_trace(fit)
    assert axes.size >= 4 and all(isinstance(a, Axes) for a in axes.ravel())
    axes = plots.plot_rank(fit, var_names=["alpha_mu"])
    assert all(isinstance(a, Axes) for a in np.ravel(axes))
    with pytest.raises(ValueError, match="not in the posterior"):
        plots.plot_trace(fit, var_names=["nope"])
    if _arviz.ARVIZ_1:
        with pytest.raises(ValueError, match="own figure"):
            plots.plot_trace(fit, ax=plt.subplots()[1])
    else:
        _, given = plt.subplots(4, 2)
        assert plots.plot_trace(fit, ax=given)[0, 0] is given[0, 0]

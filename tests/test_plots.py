import imageio.v3 as iio
import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from mdn_utils.core.params import MixtureParams
from mdn_utils.problems import datasets as data
from mdn_utils.core import mixture, model as mdn_model
from mdn_utils.book import plots

X, Y = data.sample("sinusoid_inverse", 1000, seed=0)
SPEC = data.get_dataset("sinusoid_inverse")


@pytest.fixture(scope="module")
def net():
    """An untrained MDN adapted to (X, Y), built once for the module (not at import)."""
    return mdn_model.build_mdn(num_components=4, hidden_units=8, adapt_to=(X, Y), seed=0)


def test_figures_are_created(net):
    history = {"step": [1, 2], "train_nll": [2.0, 1.5], "validation_nll": [2.1, 1.6]}
    figures = [
        plots.plot_data(X, Y, samples=(X, Y)),
        plots.plot_loss_curve(history, floor=1.29),
        plots.plot_density_heatmap(net, SPEC.x_range, SPEC.y_range, data=(X, Y), resolution=40),
        plots.plot_mixture_parameters(net, SPEC.x_range, resolution=50),
        plots.plot_pdf_slice(net, 0.0, dataset="sinusoid_inverse"),
    ]
    for figure in figures:
        assert isinstance(figure, Figure) and figure.axes
    # The slice draws the components with weight > 1%, the mixture and the true density.
    logits = mdn_model.predict_params(net, [0.0])[0][0]
    weights = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert len(figures[-1].axes[0].lines) == int(np.sum(weights > 0.01)) + 2


def test_component_densities_sum_to_the_mixture_density(net):
    params = mdn_model.predict_params(net, [0.0, 1.0])
    grid = np.linspace(-30, 30, 601)
    summed = plots.component_densities(MixtureParams.from_1d(*params), grid).sum(-1)
    reference = np.exp(mixture.mixture_distribution(MixtureParams.from_1d(*params)).log_prob(grid[:, None]).numpy()).T
    np.testing.assert_allclose(summed, reference, rtol=1e-5, atol=1e-12)


def test_temperature_gif_loops_with_distinct_frames(net, tmp_path):
    path = tmp_path / "temperature.gif"
    taus = [0.1, 1.0, 3.0]
    plots.write_temperature_gif(net, path, SPEC.x_range, (-30, 30), taus=taus,
                                num_points=200, data_y_range=SPEC.y_range)
    frames = iio.imread(path, index=None)
    assert frames.shape[0] == len(taus)
    assert not np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[1], frames[2])
    with Image.open(path) as image:
        assert image.n_frames == len(taus)
        assert image.info.get("loop") == 0
        assert image.size == (1000, 560)  # the default frame: 10 x 5.6 inches at 100 dpi
    # data_y_range draws the data band and the shares outside it: the frame changes.
    plain, banded = (plots.temperature_frames(net, SPEC.x_range, (-30, 30), [1.0], num_points=200,
                                              data_y_range=band) for band in (None, SPEC.y_range))
    assert plain.shape == banded.shape and not np.array_equal(plain, banded)


def test_temperature_gif_starts_at_the_model_itself(net, tmp_path):
    """The loop is played from the tau closest to 1 (its order unchanged), so the first
    frame, the one shown as the still image, is the model at tau = 1."""
    path = tmp_path / "temperature.gif"
    taus = [0.1, 0.3, 1.0, 3.0, 1.0, 0.3]
    plots.write_temperature_gif(net, path, SPEC.x_range, (-30, 30), taus=taus, num_points=200)
    shown = iio.imread(path, index=None).astype(int)
    drawn = plots.temperature_frames(net, SPEC.x_range, (-30, 30), [1.0, 3.0, 0.1],
                                     num_points=200).astype(int)
    for index, frame in enumerate(drawn):   # frames 0, 1, 5 of the GIF: tau 1, 3, then 0.1
        gif_index = (0, 1, 4)[index]
        errors = [np.abs(shown[gif_index][..., :3] - other).mean() for other in drawn]
        assert int(np.argmin(errors)) == index and errors[index] < 2, errors


def test_gif_frames_share_one_small_palette(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(4, 40, 60, 3), dtype=np.uint8)
    path = plots.write_gif(tmp_path / "noise.gif", frames, frame_ms=100, colours=16)
    decoded = iio.imread(path, index=None)[..., :3]
    assert decoded.shape == frames.shape
    colours = {tuple(c) for frame in decoded for c in frame.reshape(-1, 3)}
    assert len(colours) <= 16
    with Image.open(path) as image:
        assert image.n_frames == 4 and image.info.get("loop") == 0
        assert image.info.get("duration") == 100
    with pytest.raises(ValueError, match="256"):
        plots.write_gif(tmp_path / "x.gif", frames, colours=300)
    with pytest.raises(ValueError, match="uint8"):
        plots.write_gif(tmp_path / "x.gif", frames.astype(float))


def test_the_book_style_is_colour_blind_safe_and_sharp():
    """book/matplotlibrc: the Okabe-Ito colours, 200 pixels per inch, fonts of at least 11
    points; and the library names its colours by their place in that cycle, not by fixed
    names."""
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    style = matplotlib.rc_params_from_file(root / "book" / "matplotlibrc",
                                           use_default_template=False)
    cycle = style["axes.prop_cycle"].by_key()
    okabe_ito = {"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
                 "#CC79A7", "#000000"}
    assert [c.upper() for c in cycle["color"]] and set(c.upper() for c in cycle["color"]) == okabe_ito
    assert cycle["color"][3].upper() == "#D55E00" and cycle["color"][2].upper() == "#009E73"
    assert set(cycle) == {"color"}   # styles and markers are set where series are drawn
    assert style["figure.dpi"] >= 200
    for key in ("font.size", "axes.labelsize", "xtick.labelsize", "ytick.labelsize",
                "legend.fontsize", "axes.titlesize"):
        assert float(style[key]) >= 11, key
    source = (root / "mdn_utils" / "book" / "plots.py").read_text()
    assert "tab:" not in source and "get_cmap(\"tab" not in source


def test_plot_data_draws_every_point_and_the_samples():
    figure = plots.plot_data(X, Y, samples=(X[:10], Y[:10]))
    data_points, sample_points = figure.axes[0].collections
    np.testing.assert_array_equal(data_points.get_offsets(), np.column_stack([X, Y]))
    assert len(sample_points.get_offsets()) == 10
    assert len(plots.plot_data(X, Y).axes[0].collections) == 1


def test_plot_data_rejects_unpaired_columns():
    with pytest.raises(ValueError, match="must agree"):
        plots.plot_data(X, Y[:-1])
    with pytest.raises(ValueError, match="must agree"):
        plots.plot_data(X, Y, samples=(X, Y[:-1]))


def _slice_weights(net, x0):
    logits = mdn_model.predict_params(net, [x0])[0][0].astype(np.float64)
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def test_pdf_slice_draws_only_components_above_min_weight(net):
    weights = _slice_weights(net, 0.0)
    # A threshold between the two smallest weights drops exactly one component.
    smallest, second = np.sort(weights)[:2]
    assert second - smallest > 1e-6 * second  # the threshold is not at a float tie
    threshold = float(0.5 * (smallest + second))
    figure = plots.plot_pdf_slice(net, 0.0, y_range=(-12, 12), min_weight=threshold)
    drawn = int(np.sum(weights > threshold))
    assert 0 < drawn < len(weights)
    assert len(figure.axes[0].lines) == drawn + 1  # components + mixture (no truth)
    # The mixture curve is the sum over ALL components, not only the drawn ones.
    mixture = figure.axes[0].lines[-1]
    params = mdn_model.predict_params(net, [0.0])
    expected = plots.component_densities(MixtureParams.from_1d(*params), mixture.get_xdata())[0].sum(-1)
    np.testing.assert_allclose(mixture.get_ydata(), expected, rtol=1e-6)


def test_pdf_slice_legend_sits_below_the_axes(net):
    figure = plots.plot_pdf_slice(net, 0.0, dataset="sinusoid_inverse")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axes_box = figure.axes[0].get_window_extent(renderer)
    legend_box = figure.axes[0].get_legend().get_window_extent(renderer)
    assert legend_box.y1 <= axes_box.y0  # entirely under the plotting area: covers no peak


@pytest.mark.parametrize("min_weight", [-0.1, 1.0, float("nan")])
def test_pdf_slice_rejects_bad_min_weight(net, min_weight):
    with pytest.raises(ValueError, match="min_weight"):
        plots.plot_pdf_slice(net, 0.0, y_range=(-12, 12), min_weight=min_weight)


def test_mixture_parameters_draw_only_components_that_carry_weight(net):
    x_grid = np.linspace(*SPEC.x_range, 50)
    logits = mdn_model.predict_params(net, x_grid)[0]
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    lightest, next_lightest = np.sort(weights.max(axis=0))[:2]
    threshold = float(0.5 * (lightest + next_lightest))   # leaves out the lightest component
    carrying = plots.components_carrying_weight(net, x_grid, threshold)
    np.testing.assert_array_equal(carrying, np.flatnonzero(weights.max(axis=0) > threshold))
    assert 0 < len(carrying) < weights.shape[1]
    figure = plots.plot_mixture_parameters(net, SPEC.x_range, SPEC.y_range, min_weight=threshold,
                                           resolution=50)
    assert len(figure.axes[0].lines) == len(carrying)
    assert figure.axes[1].get_ylim() == SPEC.y_range


def test_the_architecture_diagram_shows_the_sizes_it_is_given():
    import matplotlib.pyplot as plt
    ax = plots.plot_architecture(num_components=5, hidden_units=32, hidden_layers=3)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "3 dense layers" in texts and "32 units" in texts and "= 15 numbers" in texts
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="num_components"):
        plots.plot_architecture(0, 32, 3)

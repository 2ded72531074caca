import imageio.v3 as iio
import matplotlib
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from mdn_utils import data, mixture, model as mdn_model, plots

X, Y = data.sample("sinusoid_inverse", 1000, seed=0)
NET = mdn_model.build_mdn(num_components=4, hidden_units=8, x_stats=mdn_model.data_stats(X),
                          y_stats=mdn_model.data_stats(Y), seed=0)
SPEC = data.get_dataset("sinusoid_inverse")


def test_runs_without_a_display():
    assert matplotlib.get_backend().lower() == "agg"


def test_figures_are_created():
    history = {"step": [1, 2], "train_nll": [2.0, 1.5], "validation_nll": [2.1, 1.6]}
    figures = [
        plots.plot_data(X, Y, samples=(X, Y)),
        plots.plot_loss_curve(history, floor=1.29),
        plots.plot_density_heatmap(NET, SPEC.x_range, SPEC.y_range, data=(X, Y), resolution=40),
        plots.plot_mixture_parameters(NET, SPEC.x_range, resolution=50),
        plots.plot_pdf_slice(NET, 0.0, dataset="sinusoid_inverse"),
    ]
    for figure in figures:
        assert isinstance(figure, Figure) and figure.axes
    # The slice draws the mixture, K components and the true density.
    assert len(figures[-1].axes[0].lines) == 4 + 2


def test_component_densities_sum_to_the_mixture_density():
    params = mdn_model.predict_params(NET, [0.0, 1.0])
    grid = np.linspace(-30, 30, 601)
    summed = plots.component_densities(*params, grid).sum(-1)
    reference = np.exp(mixture.mixture_distribution(*params).log_prob(grid[:, None]).numpy()).T
    np.testing.assert_allclose(summed, reference, rtol=1e-5, atol=1e-12)


def test_temperature_gif_loops_with_distinct_frames(tmp_path):
    path = tmp_path / "temperature.gif"
    taus = [0.1, 1.0, 3.0]
    plots.write_temperature_gif(NET, path, SPEC.x_range, SPEC.y_range, taus=taus,
                                num_points=200, dpi=40)
    frames = iio.imread(path, index=None)
    assert frames.shape[0] == len(taus)
    assert not np.array_equal(frames[0], frames[1])
    assert not np.array_equal(frames[1], frames[2])
    with Image.open(path) as image:
        assert image.n_frames == len(taus)
        assert image.info.get("loop") == 0

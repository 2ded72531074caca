"""Figures for the book: data, loss curve, density heatmap, mixture parameters, the PDF
slice at one x, and the temperature animation as a looping GIF.

Every function returns its matplotlib ``Figure`` (and draws nothing global), so they run
without a display. The GIF frames are rendered off-screen with the Agg canvas.

Colours are named by their place in matplotlib's colour cycle ("C0", "C3", ...), so they
follow the style in use: the book's (``book/matplotlibrc``) makes the cycle the
colour-blind-safe Okabe-Ito palette, in which C0 is blue, C1 orange and C3 vermillion.
"""
from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from mdn_utils import checks
from mdn_utils.problems.datasets import conditional_density, get_dataset, has_density
from mdn_utils.core.model import predict_mixture, predict_params
from mdn_utils.core.params import MixtureParams, log_softmax, scalar_mixture
from mdn_utils.core.sampling import sample_with_temperature

DATA_STYLE = dict(s=2, alpha=0.15, color="0.45", rasterized=True)
SAMPLE_STYLE = dict(s=2, alpha=0.35, color="C3", rasterized=True)
# Line styles and markers that, with the colour, tell many series apart (components).
LINE_STYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D")


def component_densities(params: MixtureParams, y_grid):
    """pi_k N(y | mu_k, sigma_k^2) of a 1-D mixture on a y grid: ``[n, len(y_grid), K]``
    (``MixtureParams.component_densities``)."""
    return scalar_mixture(params, dtype=None).component_densities(y_grid)


def _axes(ax, figsize=(7, 4.5)):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    return ax.figure, ax


def _range(name, value):
    bounds = checks.finite_array(name, value, ndim=1)
    if bounds.shape != (2,) or not bounds[1] > bounds[0]:
        raise ValueError(f"{name} must be (low, high) with high > low, got {value!r}")
    return float(bounds[0]), float(bounds[1])


def plot_architecture(num_components: int, hidden_units: int, hidden_layers: int, ax=None):
    """A diagram of the MDN as ``core.model.build_mdn`` builds it: input x, ``hidden_layers``
    dense layers of ``hidden_units``, a dense head of 3K numbers that become the logits
    (softmax: the weights), the means and the log-widths (exp: the widths), joined into
    the mixture p(y | x), whose negative log-density at the observed y is the loss."""
    from matplotlib.patches import FancyBboxPatch

    num_components = checks.positive_int("num_components", num_components)
    hidden_units = checks.positive_int("hidden_units", hidden_units)
    hidden_layers = checks.positive_int("hidden_layers", hidden_layers, minimum=0)
    _, ax = _axes(ax, figsize=(7.6, 3.4))
    ax.set(xlim=(0, 10.3), ylim=(0.2, 4.8))
    ax.axis("off")

    def box(x, y, text, width, colour="C0"):
        ax.add_patch(FancyBboxPatch((x - width / 2, y - 0.4), width, 0.8,
                                    boxstyle="round,pad=0.05", fc=colour, alpha=0.15,
                                    ec=colour))
        ax.text(x, y, text, ha="center", va="center", fontsize=10)

    def arrow(start, end):
        ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", color="0.3"))

    box(0.55, 2.5, "input $x$", 0.95)
    box(2.35, 2.5, f"{hidden_layers} dense layers\nof {hidden_units} units", 2.0)
    box(4.6, 2.5, f"dense head:\n$3K$ = {3 * num_components} numbers", 2.1)
    arrow((1.08, 2.5), (1.3, 2.5))
    arrow((3.4, 2.5), (3.55, 2.5))
    for y, text in ((4.1, "logits $z_k$\n→ softmax → $\\pi_k$"), (2.5, "means $\\mu_k$"),
                    (0.9, "log-widths $s_k$\n→ exp → $\\sigma_k$")):
        box(7.0, y, text, 2.0, colour="C1")
        arrow((5.65, 2.5), (5.95, y))
        arrow((8.05, y), (8.5, 2.5))
    box(9.45, 2.5, "mixture\n$p(y \\mid x)$", 1.55, colour="C2")
    ax.text(9.45, 1.65, "loss:\n$-\\log p(y \\mid x)$\nat the\nobserved $y$", ha="center",
            va="top", fontsize=10)
    return ax


def plot_data(x, y, samples=None, ax=None, title="Data"):
    """Scatter of (x, y); ``samples=(x_s, y_s)`` overlays model samples in C3 (red)."""
    x, y = checks.column("x", x), checks.column("y", y)
    checks.same_length(x=x, y=y)
    fig, ax = _axes(ax)
    ax.scatter(x, y, label="data", **DATA_STYLE)
    if samples is not None:
        xs, ys = checks.column("samples[0]", samples[0]), checks.column("samples[1]", samples[1])
        checks.same_length(samples_x=xs, samples_y=ys)
        ax.scatter(xs, ys, label="model samples", **SAMPLE_STYLE)
        ax.legend(markerscale=6, loc="upper left")
    ax.set(xlabel="x", ylabel="y", title=title)
    return fig


def plot_loss_curve(history, floor=None, ax=None):
    """Training and validation NLL against step; ``floor`` draws the Bayes-optimal NLL."""
    if not isinstance(history, dict) or not history.get("step"):
        raise TypeError("history must be the dict returned in TrainingResult.history")
    fig, ax = _axes(ax)
    ax.plot(history["step"], history["train_nll"], label="training minibatches")
    if history.get("validation_nll"):
        ax.plot(history["step"], history["validation_nll"], label="validation")
    if floor is not None:
        ax.axhline(floor, color="k", ls=":", lw=1.2, label="Bayes-optimal NLL")
    ax.set(xlabel="step", ylabel="NLL (nats)", title="Training")
    ax.legend()
    return fig


def plot_density_heatmap(model, x_range, y_range, data=None, resolution=200, ax=None):
    """The learned p(y | x) on a grid, as an image, with the data on top.

    The colour scale is the square root of the density (``PowerNorm(0.5)``), up to its 99.5%
    quantile: where one x has several branches each is lower than a lone branch, and a
    linear scale would leave them dim beside the single-branch ends.
    """
    x_low, x_high = _range("x_range", x_range)
    y_low, y_high = _range("y_range", y_range)
    resolution = checks.positive_int("resolution", resolution, minimum=2)
    x_grid = np.linspace(x_low, x_high, resolution)
    y_grid = np.linspace(y_low, y_high, resolution)
    density = component_densities(predict_mixture(model, x_grid), y_grid).sum(-1)
    fig, ax = _axes(ax)
    norm = PowerNorm(gamma=0.5, vmin=0.0, vmax=float(np.quantile(density, 0.995)))
    image = ax.imshow(density.T, origin="lower", aspect="auto", cmap="viridis", norm=norm,
                      extent=(x_low, x_high, y_low, y_high))
    fig.colorbar(image, ax=ax, label="p(y | x), square-root scale")
    if data is not None:
        ax.scatter(data[0], data[1], s=0.5, alpha=0.05, color="white", rasterized=True)
    ax.set(xlabel="x", ylabel="y", title="Learned conditional density p(y | x)",
           xlim=(x_low, x_high), ylim=(y_low, y_high))
    return fig


def components_carrying_weight(model, x, min_weight=0.01) -> np.ndarray:
    """Indices k with max over the given x of pi_k(x) > ``min_weight`` (sorted)."""
    min_weight = checks.positive_float("min_weight", min_weight)
    weights = np.exp(log_softmax(predict_params(model, x)[0]))
    return np.flatnonzero(weights.max(axis=0) > min_weight)


def plot_mixture_parameters(model, x_range, y_range=None, min_weight=0.01, resolution=400):
    """Weights pi_k(x) (top) and means mu_k(x) (bottom, faded where pi_k is small), drawn
    only for the components whose weight exceeds ``min_weight`` somewhere in ``x_range``;
    ``y_range`` limits the means panel (unused components can sit far outside the data).

    The i-th component shown takes colour ``C{i % 8}`` and, for each further group of
    eight, the next line style (weights) and marker (means), so no two of the first 32
    differ by colour alone; each is also numbered (1, 2, ...) in both panels at the x where
    its weight peaks, so that a weight curve can be matched with its mean.
    """
    x_low, x_high = _range("x_range", x_range)
    resolution = checks.positive_int("resolution", resolution, minimum=2)
    min_weight = checks.positive_float("min_weight", min_weight)
    x_grid = np.linspace(x_low, x_high, resolution)
    logits, means, _ = predict_params(model, x_grid)
    weights = np.exp(log_softmax(logits))
    shown = np.flatnonzero(weights.max(axis=0) > min_weight)   # components_carrying_weight
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    label_box = dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8)
    for i, k in enumerate(shown):
        colour, group = f"C{i % 8}", (i // 8) % len(LINE_STYLES)
        top.plot(x_grid, weights[:, k], lw=1.5, color=colour, ls=LINE_STYLES[group])
        visible = weights[:, k] > min_weight
        bottom.scatter(x_grid[visible], means[visible, k], s=4 if group == 0 else 9,
                       color=colour, marker=MARKERS[group],
                       alpha=np.clip(weights[visible, k], 0.35, 1))
        peak = int(np.argmax(weights[:, k]))
        for panel, value in ((top, weights[peak, k]), (bottom, means[peak, k])):
            panel.annotate(str(i + 1), (x_grid[peak], value), fontsize=10, color=colour,
                           fontweight="bold", ha="center", va="center", bbox=label_box)
    top.set(ylabel="weight $\\pi_k(x)$", ylim=(0, 1.02),
            title=f"The {len(shown)} of {weights.shape[1]} components with weight above "
                  f"{min_weight:.0%} somewhere")
    bottom.set(xlabel="x", ylabel="mean $\\mu_k(x)$ (where $\\pi_k > $" + f"{min_weight:.0%})")
    if y_range is not None:
        bottom.set_ylim(*_range("y_range", y_range))
    fig.tight_layout()
    return fig


def plot_pdf_slice(model, x0, dataset=None, y_range=None, ax=None, resolution=1000,
                   min_weight=0.01):
    """p(y | x = x0) = sum_k pi_k N(y | mu_k, sigma_k^2): the mixture, its weighted
    components and (if ``dataset``, an object or a built-in name with a 1-D y) its y range
    and, when it has an exact density, the true conditional density.

    Only the components with weight pi_k(x0) > ``min_weight`` are drawn (the others
    add nothing visible and would only clutter the figure); the mixture curve always
    sums all K. The legend goes below the axes, so it never covers a peak.
    """
    x0 = float(checks.finite_array("x0", x0, ndim=0))
    min_weight = float(checks.finite_array("min_weight", min_weight, ndim=0))
    if not 0.0 <= min_weight < 1.0:
        raise ValueError(f"min_weight must be in [0, 1), got {min_weight!r}")
    if dataset is not None:
        dataset = get_dataset(dataset)
        if dataset.y_dim != 1:
            raise ValueError(f"dataset {dataset.name!r} has a {dataset.y_dim}-dimensional y; "
                             "a PDF slice needs a 1-D y")
    if y_range is None:
        if dataset is None:
            raise ValueError("give y_range or dataset (to take its y range)")
        y_range = dataset.y_range
    y_low, y_high = _range("y_range", y_range)
    pad = 0.05 * (y_high - y_low)
    y_grid = np.linspace(y_low - pad, y_high + pad, checks.positive_int("resolution", resolution))
    logits, means, log_sigmas = predict_params(model, [x0])
    weights = np.exp(log_softmax(logits[0]))
    components = component_densities(MixtureParams.from_1d(logits, means, log_sigmas), y_grid)[0]
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    fig = ax.figure
    shown = np.flatnonzero(weights > min_weight)
    for i, k in enumerate(shown):
        ax.plot(y_grid, components[:, k], lw=1, color="C1", ls="-",
                label=rf"components $\pi_k\,\mathcal{{N}}(y \mid \mu_k, \sigma_k^2)$ with "
                      rf"$\pi_k > {min_weight:g}$ ({len(shown)} of {len(weights)})"
                if i == 0 else None)
    ax.plot(y_grid, components.sum(-1), lw=2.2, color="C0", ls="-",
            label=r"MDN mixture $p(y \mid x)$")
    if dataset is not None and has_density(dataset):
        ax.plot(y_grid, conditional_density(dataset, x0, y_grid), lw=1.5, color="k",
                ls="--", label=r"true $p(y \mid x)$")
    ax.set(xlabel="y", ylabel=f"density at x = {x0:g}", title=f"PDF slice at x = {x0:g}")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    return fig


def temperature_frames(model, x_range, y_range, taus, data=None, num_points=2000,
                       seed=0, size=(10.0, 5.6), dpi=100, data_y_range=None, font_size=15):
    """One RGB frame ``[H, W, 3]`` per tau: samples at that tau over x in ``x_range``.

    All frames share the x grid and the random seed, so they differ by tau alone. The
    frame is ``size * dpi`` pixels (1000 x 560 by default). ``y_range`` sets the axes;
    give ``data_y_range=(low, high)`` (the range of the data) to shade it and print in each
    frame the share of samples outside it and the share beyond the axes.
    """
    x_low, x_high = _range("x_range", x_range)
    y_low, y_high = _range("y_range", y_range)
    taus = checks.finite_array("taus", taus, ndim=1)
    if np.any(taus <= 0):
        raise ValueError(f"taus must all be > 0, got minimum {taus.min()}")
    num_points = checks.positive_int("num_points", num_points)
    dpi = checks.positive_int("dpi", dpi)
    font_size = checks.positive_float("font_size", font_size)
    size = checks.finite_array("size", size, ndim=1)
    if size.shape != (2,) or np.any(size <= 0):
        raise ValueError(f"size must be (width, height) in inches, both > 0, got {size!r}")
    if data_y_range is not None:
        data_low, data_high = _range("data_y_range", data_y_range)
    x_grid = np.linspace(x_low, x_high, num_points)
    params = predict_mixture(model, x_grid)
    frames = []
    with plt.rc_context({"font.size": font_size}):
        for tau in taus:
            samples = sample_with_temperature(params, tau=float(tau), seed=seed)[0]
            fig = Figure(figsize=tuple(size), dpi=dpi)
            canvas = FigureCanvasAgg(fig)
            ax = fig.add_subplot()
            if data_y_range is not None:
                ax.axhspan(data_low, data_high, color="0.93", zorder=0,
                           label="range of the data")
            if data is not None:
                ax.scatter(data[0], data[1], **DATA_STYLE)
            ax.scatter(x_grid, samples, s=6, alpha=0.6, color="C3", rasterized=True)
            ax.set(xlim=(x_low, x_high), ylim=(y_low, y_high), xlabel="x", ylabel="y")
            ax.set_title(f"one sample of y per x at temperature \u03c4 = {tau:.2f}")
            if data_y_range is not None:
                outside = np.mean((samples < data_low) | (samples > data_high))
                off_plot = np.mean((samples < y_low) | (samples > y_high))
                ax.text(0.01, 0.98, f"outside the data range (shaded): {outside:.1%}\n"
                        f"beyond these axes: {off_plot:.2%}", transform=ax.transAxes,
                        va="top", ha="left",
                        bbox=dict(facecolor="white", alpha=0.85, edgecolor="0.6"))
            fig.tight_layout()
            canvas.draw()
            frames.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return np.stack(frames)


def write_gif(path, frames, frame_ms=250, colours=32):
    """Write RGB ``frames`` ``[T, H, W, 3]`` to ``path`` as a GIF that loops forever.

    All frames share one palette of ``colours`` colours (Pillow's maximum-coverage
    quantiser over every frame, no dithering). A shared palette keeps a pixel that does not
    change between frames at the same index, so the GIF encoder stores only the region that
    changed; without dithering, flat areas stay flat and compress well.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path, got {type(path).__name__}")
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 [T, H, W, 3], got {frames.dtype} {frames.shape}")
    frame_ms = checks.positive_int("frame_ms", frame_ms)
    colours = checks.positive_int("colours", colours)
    if colours > 256:
        raise ValueError(f"a GIF holds at most 256 colours, got {colours}")
    montage = Image.fromarray(frames.reshape(-1, *frames.shape[2:]))
    palette = montage.quantize(colors=colours, method=Image.Quantize.MAXCOVERAGE,
                               dither=Image.Dither.NONE)
    images = [Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE)
              for frame in frames]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                   duration=frame_ms, loop=0, optimize=True)
    return path


def write_temperature_gif(model, path, x_range, y_range, taus=None, data=None,
                          frame_ms=250, colours=32, **frame_options):
    """Write the temperature animation to ``path`` as a looping GIF; return the path.

    ``taus`` defaults to 20 values from 0.05 to 3, geometrically spaced, then back down,
    so the loop is smooth. The loop is played from the tau closest to 1 (in log scale; the
    order around the loop is unchanged), so the first frame shows the model itself: it is
    the frame that viewers which do not animate show, and the still image the site shows
    readers who ask for reduced motion. ``colours`` is the size of the shared palette
    (``write_gif``). ``frame_options`` go to ``temperature_frames`` (frame size, dpi,
    ``data_y_range`` for the shaded data band and the share of samples outside it).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path, got {type(path).__name__}")
    frame_ms = checks.positive_int("frame_ms", frame_ms)
    if taus is None:
        up = np.geomspace(0.05, 3.0, 20)
        taus = np.concatenate([up, up[-2:0:-1]])
    taus = checks.finite_array("taus", taus, ndim=1)
    if np.any(taus <= 0):
        raise ValueError(f"taus must all be > 0, got minimum {taus.min()}")
    taus = np.roll(taus, -int(np.argmin(np.abs(np.log(taus)))))
    frames = temperature_frames(model, x_range, y_range, taus, data=data, **frame_options)
    return write_gif(path, frames, frame_ms=frame_ms, colours=colours)

"""The data the static sliders embed (mdn_utils.book.interactive), checked without a browser."""
import json
import re

import numpy as np
import pytest

from mdn_utils.core.params import MixtureParams
from mdn_utils.book import interactive
from mdn_utils.core import sampling

X = np.linspace(-2.0, 2.0, 5)
Y_RANGE = (-6.0, 6.0)


def two_bumps(x):
    """Mixtures [n, 3]: bumps at -2 and +2 whose weights trade places as x goes from -2 to 2,
    plus a negligible, enormously wide third component (like the unused ones of a real MDN)."""
    n = len(x)
    logits = np.stack([-x, x, np.full(n, -30.0)], axis=1)
    means = np.tile([-2.0, 2.0, 0.0], (n, 1))
    log_sigmas = np.log(np.tile([0.5, 0.5, 1e6], (n, 1)))
    return logits, means, log_sigmas


def test_modes_are_the_maxima_of_the_density_at_two_x():
    payload = interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE)
    fine = np.linspace(*Y_RANGE, 200_001)
    for i in (0, 2):   # x = -2 (unequal bumps) and x = 0 (equal bumps)
        density = interactive.mixture_density(MixtureParams.from_1d(*(p[i:i + 1] for p in two_bumps(X))), fine)[0]
        inner = density[1:-1]
        maxima = fine[1:-1][(inner > density[:-2]) & (inner >= density[2:])
                            & (inner > 0.05 * density.max())]
        np.testing.assert_allclose(payload["modes"][i], maxima, atol=2e-3)
    assert len(payload["modes"][2]) == 2 and abs(payload["modes"][2][0] + 2) < 0.01


def test_mode_below_the_height_threshold_is_left_out():
    x = np.array([-3.0, 3.0])   # weights 1/(1 + e^6): the small bump is 0.25% of the big one
    payload = interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(x)), x, Y_RANGE)
    assert [len(m) for m in payload["modes"]] == [1, 1]
    assert payload["modes"][0][0] == pytest.approx(-2.0, abs=0.02)
    assert payload["modes"][1][0] == pytest.approx(2.0, abs=0.02)


def test_mean_hdr_and_components():
    payload = interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE, min_weight=0.01)
    logits, means, _ = two_bumps(X)
    weights = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(payload["mean"], (weights * means).sum(1), atol=1e-3)
    # At x = 0 two equal bumps of sigma 0.5: the 80% HDR is mu +- 1.2816 sigma around each.
    hdr = np.array(payload["hdr"][2])
    np.testing.assert_allclose(hdr, [[-2 - 0.6408, -2 + 0.6408], [2 - 0.6408, 2 + 0.6408]],
                               atol=0.01)
    assert payload["hdrEnclosed"][2] == pytest.approx(0.8, abs=0.005)
    # The negligible wide component is not embedded; the two bumps are, sorted by mean.
    assert all(len(c) == 2 for c in payload["components"])
    assert [c[1] for c in payload["components"][2]] == [-2.0, 2.0]


def test_hdr_of_a_single_gaussian():
    x = np.array([0.0, 1.0])
    single = MixtureParams.from_1d(np.zeros((2, 1)), np.zeros((2, 1)), np.zeros((2, 1)))
    payload = interactive.slice_slider_data(single, x, (-8.0, 8.0), fine_points=16_001)
    np.testing.assert_allclose(payload["hdr"][0], [[-1.2816, 1.2816]], atol=2e-3)
    assert payload["hdrEnclosed"][0] == pytest.approx(0.8, abs=1e-3)
    assert payload["hdrLevel"][0] == pytest.approx(np.exp(-0.5 * 1.2816 ** 2) / np.sqrt(2 * np.pi),
                                                   rel=1e-2)


def test_true_density_round_trips_through_uint8():
    x = np.linspace(-1.0, 1.0, 3)
    payload = interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(x)), x, (-12, 12),
                                            dataset="sinusoid_inverse", true_points=241)
    from mdn_utils.problems import datasets as data
    grid = np.linspace(-12, 12, 241)
    exact = data.conditional_density("sinusoid_inverse", x[1], grid)
    decoded = interactive.decode(payload["true"]["uint8"][1], np.uint8) / 255 \
        * payload["true"]["max"][1]
    assert np.max(np.abs(decoded - exact)) <= exact.max() / 255 + 1e-4


def test_temperature_samples_are_the_samplers_and_pack_losslessly_enough():
    x = np.linspace(-1.0, 1.0, 50)
    params = two_bumps(x)
    taus = [0.1, 1.0, 3.0]
    payload = interactive.temperature_slider_data(MixtureParams.from_1d(*params), x, taus, (-4.0, 4.0), (-3.0, 3.0),
                                                  data=(x, np.sin(x)))
    for i, tau in enumerate(taus):
        expected = sampling.sample_with_temperature(MixtureParams.from_1d(*params), tau=tau, seed=0)[0]
        codes = interactive.decode(payload["samples"][i], np.uint16)
        inside = codes != interactive.OFF_AXES
        np.testing.assert_array_equal(inside, np.abs(expected) <= 4.0)
        drawn = -4.0 + 8.0 * codes[inside] / 65534
        np.testing.assert_allclose(drawn, expected[inside], atol=1e-4)
        assert payload["outside"][i] == pytest.approx(np.mean(np.abs(expected) > 3.0))
        assert payload["beyond"][i] == pytest.approx(np.mean(np.abs(expected) > 4.0))
    # The same seed at every tau: tau = 0.1 samples sit at the bump means, +-2.
    cold = -4.0 + 8.0 * interactive.decode(payload["samples"][0], np.uint16) / 65534
    assert np.all(np.abs(np.abs(cold) - 2.0) < 0.6)


def test_html_is_self_contained_keyboard_slider():
    payload = interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE)
    page = interactive.slice_slider_html(payload, element_id="t-slider")
    assert '<input type="range" id="t-slider-input" min="0" max="4"' in page
    assert 'value="2"' in page                      # starts at x = 0
    assert '<label for="t-slider-input">' in page
    assert not re.search(r"(src|href)=\"?https?:", page)     # nothing loaded from elsewhere
    embedded = re.search(r'<script type="application/json">(.*?)</script>', page, re.S).group(1)
    assert json.loads(embedded)["modes"] == payload["modes"]
    assert interactive.page_bytes(page) < 50_000


def test_json_cannot_close_its_script_element():
    payload = interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE)
    payload["note"] = "</script><script>alert(1)</script>"
    page = interactive.slice_slider_html(payload)
    assert page.count("</script>") == 2


@pytest.mark.parametrize("call, match", [
    (lambda: interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X[:4], Y_RANGE), "x_values"),
    (lambda: interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X[::-1], Y_RANGE), "x_values"),
    (lambda: interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, (1.0, -1.0)), "y_range"),
    (lambda: interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE, hdr_mass=1.0), "hdr_mass"),
    (lambda: interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE, min_weight=0.001,
                                           keep_weight=0.01), "keep_weight"),
    (lambda: interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE,
                                           dataset="two_gaussians_2d"), "1-D"),
    (lambda: interactive.slice_slider_data(MixtureParams.from_1d(np.zeros((5, 3)), np.zeros((5, 2)), np.zeros((5, 3))),
                                           X, Y_RANGE), "same shape"),
    (lambda: interactive.slice_slider_data(MixtureParams.from_1d(np.full((5, 3), np.nan), *two_bumps(X)[1:]), X,
                                           Y_RANGE), "mixture_logits"),
    (lambda: interactive.temperature_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, [0.0, 1.0], (-4, 4), (-3, 3)),
     "taus"),
    (lambda: interactive.temperature_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, [2.0, 1.0], (-4, 4), (-3, 3)),
     "taus"),
    (lambda: interactive.temperature_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, [1.0, 2.0], (4, -4), (-3, 3)),
     "y_view"),
    (lambda: interactive.temperature_slider_data(MixtureParams.from_1d(*two_bumps(X)), np.array([-2, -1, 0, 1, 5.0]),
                                                 [1.0, 2.0], (-4, 4), (-3, 3)), "evenly"),
    (lambda: interactive.slice_slider_html({"kind": "temperature"}), "payload"),
    (lambda: interactive.temperature_slider_html([]), "payload"),
    (lambda: interactive.slice_slider_html(
        interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE), initial=5), "initial"),
    (lambda: interactive.slice_slider_html(
        interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE), element_id='a"b'),
     "element_id"),
    (lambda: interactive.density_modes(np.ones(4), np.arange(5.0)), "density"),
])
def test_bad_input_is_rejected_with_its_name(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_bad_input_types():
    with pytest.raises(TypeError, match="seed"):
        interactive.temperature_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, [1.0, 2.0], (-4, 4), (-3, 3),
                                            seed=1.5)
    with pytest.raises(TypeError, match="text"):
        interactive.page_bytes(b"abc")
    with pytest.raises(TypeError, match="fine_points"):
        interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE, fine_points=10.0)


def test_the_legend_swatches_are_the_colours_drawn():
    """The key's swatch of a band is the band's fill at its opacity over white."""
    hdr = re.search(r'fill:"(#[0-9a-f]{6})","fill-opacity":([\d.]+),"data-y0"', interactive._JS)
    data = re.search(r'"mdn-data-range".*?fill:"(#[0-9a-f]{6})","fill-opacity":([\d.]+)',
                     interactive._JS, re.S)
    for match, swatch in ((hdr, interactive._HDR_SWATCH), (data, interactive._DATA_RANGE_SWATCH)):
        colour, opacity = match.group(1), float(match.group(2))
        drawn = [round(255 - opacity * (255 - int(colour[i:i + 2], 16))) for i in (1, 3, 5)]
        assert swatch == "#" + "".join(f"{c:02x}" for c in drawn)


def test_the_value_label_and_the_ends_of_the_range_are_fixed():
    payload = interactive.slice_slider_data(MixtureParams.from_1d(*two_bumps(X)), X, Y_RANGE)
    page = interactive.slice_slider_html(payload)
    widest = max(len(f"{0.0 if abs(x) < 0.005 else x:.2f}") for x in X)
    assert f'style="min-width:{widest}ch"' in page      # the label never changes width
    ends = re.findall(r'<span class="mdn-end" aria-hidden="true">([^<]*)</span>', page)
    assert ends == [f"{X[0]:.2f}", f"{X[-1]:.2f}"]


def test_mixture_density_in_chunks_equals_all_at_once():
    mixture = MixtureParams.from_1d(*two_bumps(np.linspace(-2, 2, 37)))
    grid = np.linspace(*Y_RANGE, 101)
    whole = mixture.component_densities(grid).sum(-1)
    for rows in (1, 5, 16, 37, 100):
        np.testing.assert_allclose(interactive.mixture_density(mixture, grid, rows), whole,
                                   rtol=1e-12)
    with pytest.raises(ValueError, match="rows_per_chunk"):
        interactive.mixture_density(mixture, grid, 0)

"""The built site as a reader gets it, checked in headless Chromium.

Needs the site (``make book``; ``make test`` builds it first) and Debian's ``chromium``
and ``chromium-driver``. Without Chromium the browser checks are skipped with a message,
unless ``MDN_REQUIRE_BROWSER=1`` (set by .ci/run), where they fail instead.
"""
import base64
import functools
import gzip
import http.server
import io
import json
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import numpy as np
import pytest
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
# MDN_SITE points the checks at another build of the site (default: make book's _build/html).
SITE = Path(os.environ["MDN_SITE"]) if os.environ.get("MDN_SITE") else ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL_HINT = ("install them with: apt-get update && apt-get install -y chromium "
                "chromium-driver (Debian), then run make test again")
REQUIRED = os.environ.get("MDN_REQUIRE_BROWSER") == "1"


def _unavailable(reason):
    if REQUIRED:
        pytest.fail(f"{reason} (MDN_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def chapter_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f + ".html" for f in files]


NOTEBOOK_PAGES = [p for p in chapter_pages() if (ROOT / p.replace(".html", ".ipynb")).exists()]


def expected_figures(page):
    """Code cells of the chapter that show a figure (plt.show() or an Image)."""
    path = ROOT / page.replace(".html", ".ipynb")
    if not path.exists():
        return 0
    import nbformat
    cells = nbformat.read(path, as_version=4).cells
    return sum(1 for c in cells if c.cell_type == "code"
               and ("plt.show()" in c.source or "Image(" in c.source))


# ---------------------------------------------------------------- links, without a browser

class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) and not (tag == "a" and name == "src"):
                self.links.append(attrs[name])


@functools.lru_cache(maxsize=None)
def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def test_no_broken_internal_link():
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    broken, external = [], set()
    pages = sorted(p for p in SITE.rglob("*.html") if "_static" not in p.relative_to(SITE).parts)
    for page in pages:
        for link in _parse(page).links:
            parsed = urlparse(link)
            if parsed.scheme in ("http", "https", "mailto", "javascript") or link.startswith("//"):
                external.add(link)
                continue
            if parsed.scheme == "data" or link.startswith("#") and not link[1:]:
                continue
            target = (page.parent / unquote(parsed.path)).resolve() if parsed.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(SITE)} -> {link}")
            elif parsed.fragment and target.suffix == ".html" \
                    and parsed.fragment not in _parse(target).ids:
                broken.append(f"{page.relative_to(SITE)} -> {link} (no such anchor)")
    print(f"checked {len(pages)} pages; external links (listed, not fetched):")
    for link in sorted(external):
        print("  ", link)
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_pages_load_no_script_or_stylesheet_from_the_internet():
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    remote = []
    for page in chapter_pages():
        html = (SITE / page).read_text(encoding="utf-8")
        remote += [f"{page}: {m}" for m in re.findall(
            r'<(?:script[^>]*\ssrc|link[^>]*\shref)="(https?://[^"]+)"', html)
            if not m.startswith("https://mybinder.org")]
    assert not remote, "pages need the internet to render:\n" + "\n".join(remote)


def test_every_chapter_figure_has_a_numbered_caption_and_alt_text():
    """Each image a chapter's code draws sits in a <figure> with a numbered caption, and its
    alt text says what it shows (not the image's file name)."""
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    problems = []
    for page in NOTEBOOK_PAGES:
        html = (SITE / page).read_text(encoding="utf-8")
        main = html[html.index("<main"):]
        outputs = [img for img in re.findall(r"<img\b[^>]*>", main)
                   if re.search(r'src="([^"]*_images/|data:image)', img)]
        figures = re.findall(r"<figure\b.*?</figure>", main, re.S)
        captioned = [f for f in figures if re.search(r'class="caption-number"', f)]
        if len(outputs) != sum(f.count("<img") for f in captioned):
            problems.append(f"{page}: {len(outputs)} images, "
                            f"{sum(f.count('<img') for f in captioned)} in captioned figures")
        for img in outputs:
            alt = re.search(r'alt="([^"]*)"', img)
            text = alt.group(1) if alt else ""
            if len(text) < 20 or re.search(r"\.(png|gif|svg|jpe?g)$", text) or "/" in text[:1]:
                problems.append(f"{page}: image without descriptive alt text: {text!r}")
        if len(outputs) < expected_figures(page):
            problems.append(f"{page}: {len(outputs)} images, the chapter shows "
                            f"{expected_figures(page)}")
    assert not problems, "\n".join(problems)


def test_every_chapter_table_is_numbered_and_captioned():
    """Each table in a chapter (Markdown cells and the tables its code prints, both through
    MyST's {table} directive) has a caption that starts "Table N.M" and says something."""
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    problems, count = [], 0
    for page in NOTEBOOK_PAGES:
        main = _chapter_html(page)
        for table in re.findall(r"<table\b.*?</table>", main, re.S):
            count += 1
            caption = re.search(r'<caption>\s*<span class="caption-number">(Table [\d.]+)'
                                r'\s*</span>\s*<span class="caption-text">(.*?)</caption>', table, re.S)
            if not caption or len(re.sub(r"<[^>]+>", "", caption.group(2)).strip()) < 20:
                problems.append(f"{page}: {re.sub(r'<[^>]+>', ' ', table)[:120]!r}")
    assert count > 0, "no tables found: the check would pass on anything"
    assert not problems, "tables without a numbered caption:\n" + "\n".join(problems)


# ---------------------------------------------------------------- the chapters' prose (issue 24)

# Phrases about how the book is made rather than about MDNs. Chapter prose never needs them;
# the appendix page on how the book checks itself does. Each is narrow enough not to flag
# teaching words ("build a model", "the core of", "machine learning", "machine epsilon").
BOOKKEEPING = {
    "CPU cores": r"\bcores\b",
    "machine load": r"\bload average\b|\bloaded machine\b",
    "the machine a result came from": r"\bon a machine with\b|\bthis machine\b",
    "continuous integration": r"\bCI\b|\bcontinuous integration\b",
    "the issue tracker": r"\bthe issue\b|\bissue #?\d+",
    "byte counts": r"\b\d[\d,.]*\s*(?:kB|KB|MB|bytes)\b",
    "assertions": r"\basserted\b|\bassertions?\b",
    "the build": r"\bthe build\b|\bthe book builds?\b|\brebuilt\b|\bthis page has to run\b",
    "caches": r"\bcached?\b|\bjupyter-cache\b",
    "dates of runs": r"\b20\d\d-\d\d-\d\d\b",
}


class _VisibleProse(HTMLParser):
    """Collects the text of a page outside code, cell outputs, math, scripts and the
    collapsed exercise solutions."""
    SKIP_TAGS = {"pre", "code", "script", "style", "details"}
    SKIP_CLASSES = {"cell_output", "math"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.depth, self.skip_from, self.parts = 0, None, []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        self.depth += 1
        classes = (dict(attrs).get("class") or "").split()
        if self.skip_from is None and (tag in self.SKIP_TAGS or self.SKIP_CLASSES & set(classes)):
            self.skip_from = self.depth

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.skip_from == self.depth:
            self.skip_from = None
        self.depth -= 1

    def handle_data(self, data):
        if self.skip_from is None:
            self.parts.append(data)


def _prose(page):
    """The visible prose of a built page's article: no code, outputs (the tables and figures
    that code prints), math or scripts, and not the collapsed exercise solutions."""
    html = (SITE / page).read_text(encoding="utf-8")
    article = re.search(r"<article\b.*?</article>", html, re.S).group(0)
    parser = _VisibleProse()
    parser.feed(article)
    return re.sub(r"\s+", " ", " ".join(parser.parts).replace("\u00a0", " "))


def _words(text):
    return len(re.findall(r"[A-Za-z][A-Za-z'\u2019-]*|\d[\d.,]*", text))


CHAPTER_PAGES = [p for p in NOTEBOOK_PAGES if re.match(r"book/\d\d_", p)] + ["book/guide.html"]


def test_the_scan_for_bookkeeping_can_fail():
    samples = ["trained on 2 cores", "a load average of 2.2", "the build must finish",
               "220 kB of data", "run on 2026-11-26", "the issue that asked for it",
               "this page has to run in a minute", "the cached model", "it is asserted below"]
    missed = [s for s in samples if not any(re.search(r, s, re.I) for r in BOOKKEEPING.values())]
    assert not missed, missed
    teaching = ["build a model", "the core of the method", "machine learning",
                "float16's machine epsilon", "a loss of 2.3 nats"]
    flagged = [s for s in teaching if any(re.search(r, s, re.I) for r in BOOKKEEPING.values())]
    assert not flagged, flagged


def test_no_chapter_speaks_of_the_build_or_the_machine():
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    found = []
    for page in CHAPTER_PAGES:
        prose = _prose(page)
        for name, pattern in BOOKKEEPING.items():
            for match in re.finditer(pattern, prose, re.I):
                found.append(f"{page}: {name}: ...{prose[max(0, match.start() - 60):match.end() + 40]}...")
    assert not found, "bookkeeping in the chapters' prose:\n" + "\n".join(found)


MAX_PROSE_WORDS = {"book/05_temperature.html": 1_800, "book/07_report.html": 3_000}


@pytest.mark.parametrize("page", sorted(MAX_PROSE_WORDS))
def test_chapter_prose_stays_within_its_length(page):
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    words = _words(_prose(page))
    assert 300 < words <= MAX_PROSE_WORDS[page], f"{page}: {words} words of prose"


# ---------------------------------------------------------------- in Chromium

@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        _unavailable(f"Chromium and ChromeDriver not found at {CHROMIUM}, {CHROMEDRIVER}: "
                     + INSTALL_HINT)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-quic", "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const hasMath = document.querySelectorAll('.math').length > 0;
const loadsMathJax = !!document.querySelector('script[src*="mathjax"]');
if (!hasMath) { done(true); }
else if (!loadsMathJax) { done(false); }  // math on the page, but no MathJax to typeset it
else {
  const start = Date.now();
  (function poll() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(() => done(true), () => done(false));
    } else if (Date.now() - start > 30000) { done(false); }
    else { setTimeout(poll, 100); }
  })();
}
"""

PAGE_FACTS = """
const math = Array.from(document.querySelectorAll('div.math, span.math'));
const images = Array.from(document.querySelectorAll('img'));
const figures = Array.from(document.querySelectorAll('main .cell_output img'));
const main = document.querySelector('main') || document.body;
return {
  math: math.length,
  typeset: math.filter(e => e.querySelector('mjx-container')).length,
  text: main.innerText,
  images: images.map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
  figures: figures.length,
  toc: Array.from(document.querySelectorAll('nav a')).map(a => a.href),
  buttons: Array.from(document.querySelectorAll('a, button')).map(
      e => (e.href || '') + ' ' + (e.getAttribute('title') || '') + ' '
         + (e.getAttribute('aria-label') || '') + ' ' + (e.getAttribute('data-bs-original-title') || '')),
};
"""


def _gif_frames(src: str, site_url: str) -> int:
    if src.startswith("data:"):
        payload = base64.b64decode(src.split(",", 1)[1])
    else:
        payload = (SITE / urlparse(src).path.lstrip("/")).read_bytes()
    with Image.open(io.BytesIO(payload)) as image:
        return getattr(image, "n_frames", 1)


@pytest.mark.parametrize("page", chapter_pages())
def test_page_in_chromium(browser, site_url, page):
    browser.get_log("browser")  # discard messages from earlier pages
    browser.get(urljoin(site_url, page))
    assert browser.execute_async_script(WAIT_FOR_MATHJAX), f"{page}: MathJax did not typeset the math on the page"
    facts = browser.execute_script(PAGE_FACTS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / page.replace("/", "_").replace(".html", ".png")))

    assert facts["typeset"] == facts["math"], (
        f"{page}: {facts['math'] - facts['typeset']} of {facts['math']} equations not typeset")
    for raw in ("$$", "\\begin{", "\\["):
        assert raw not in facts["text"], f"{page}: raw TeX {raw!r} left in the visible text"
    assert facts["figures"] >= expected_figures(page), (
        f"{page}: {facts['figures']} figures on the page, the chapter shows {expected_figures(page)}")
    broken = [i["src"][:80] for i in facts["images"] if not i["ok"]]
    assert not broken, f"{page}: images that did not load: {broken}"
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{page}: console errors: {errors}"
    for chapter in chapter_pages():
        assert any(link.split("#")[0].endswith(chapter.split("/")[-1]) for link in facts["toc"]), \
            f"{page}: table of contents has no link to {chapter}"
    buttons = " ".join(facts["buttons"]).lower()
    assert "download" in buttons, f"{page}: no download button"
    if page in NOTEBOOK_PAGES:
        assert "mybinder.org" in buttons, f"{page}: no Binder launch button"
        assert "colab.research.google.com" not in buttons, f"{page}: a Colab button (chapters need mdn_utils)"
    if page.endswith("05_temperature.html"):
        gifs = [i["src"] for i in facts["images"] if "image/gif" in i["src"][:30]
                or i["src"].endswith(".gif")]
        assert gifs, "the temperature GIF is missing"
        assert all(_gif_frames(src, site_url) > 1 for src in gifs), "the GIF is not animated"
    print(f"{page}: {facts['math']} equations typeset, {len(facts['images'])} images loaded "
          f"({facts['figures']} figures)")


# ---------------------------------------------------------------- the static sliders (issue 13)

SLIDERS = {"book/06_pdf_slice.html": "mdn-x-slider", "book/05_temperature.html": "mdn-tau-slider"}
# The peaks of p(y | x = 0) that chapter 6 asserts (the MDN's within 0.2 of these true ones).
CHAPTER_6_PEAKS_AT_0 = [-7.61, -4.64, 0.0, 4.64, 7.61]
MAX_PAGE_BYTES = 3_000_000

# Reads back what the slider DREW (SVG geometry, converted to data units with the axes'
# recorded extent), not the numbers it was given.
SLIDER_DRAWING = """
const box = document.getElementById(arguments[0]);
const g = box.querySelector('g.mdn-axes');
if (!g) { return null; }
const a = {};
for (const n of ['x0', 'x1', 'y0', 'y1', 'left', 'right', 'top', 'bottom']) {
  a[n] = parseFloat(g.getAttribute('data-' + n));
}
const dx = v => a.x0 + (v - a.left) / (a.right - a.left) * (a.x1 - a.x0);
const dy = v => a.y0 + (a.bottom - v) / (a.bottom - a.top) * (a.y1 - a.y0);
const pairs = d => Array.from((d || '').matchAll(/[ML]\\s*(-?[\\d.]+)[ ,](-?[\\d.]+)/g),
                              m => [dx(parseFloat(m[1])), dy(parseFloat(m[2]))]);
const attr = (sel, name) => { const e = box.querySelector(sel); return e ? e.getAttribute(name) : ''; };
const rect = box.getBoundingClientRect();
return {
  value: parseInt(box.querySelector('input').value, 10),
  index: parseInt(box.querySelector('svg').getAttribute('data-index'), 10),
  readout: box.querySelector('.mdn-readout').textContent,
  label: box.querySelector('label').textContent,
  json: box.querySelector('script[type="application/json"]').textContent,
  mixture: pairs(attr('path.mdn-mixture', 'd')),
  mixtureD: attr('path.mdn-mixture', 'd'),
  samples: pairs(attr('path.mdn-samples', 'd')),
  samplesD: attr('path.mdn-samples', 'd'),
  // a mode marker is a triangle whose first point is 6 px left of the mode
  modes: Array.from(box.querySelectorAll('path.mdn-mode'),
                    p => dx(parseFloat(p.getAttribute('d').slice(1).split(' ')[0]) + 6)),
  hdr: Array.from(box.querySelectorAll('g.mdn-hdr rect'), r => [
      dx(parseFloat(r.getAttribute('x'))),
      dx(parseFloat(r.getAttribute('x')) + parseFloat(r.getAttribute('width')))]),
  unitsPerPixel: (a.x1 - a.x0) / (a.right - a.left),
  yUnitsPerPixel: (a.y1 - a.y0) / (a.bottom - a.top),
  width: rect.width,
  overflow: box.scrollWidth - box.clientWidth,
  viewport: document.documentElement.clientWidth,
};
"""

RESOURCES = """
return [document.URL].concat(performance.getEntriesByType('resource').map(e => e.name));
"""


def _decode(text, dtype):
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<"))


def _curve_maxima(points, min_height):
    """Local maxima (>= min_height of the highest) of a drawn curve [(y, p), ...]."""
    pts = np.asarray(points)
    y, p = pts[:, 0], pts[:, 1]
    inner = p[1:-1]
    keep = (inner > p[:-2]) & (inner >= p[2:]) & (inner >= min_height * p.max())
    return y[1:-1][keep]


def _check_slice_drawing(drawn, payload, index):
    tolerance = 2 * drawn["unitsPerPixel"]          # two pixels
    assert drawn["index"] == drawn["value"] == index
    shown_x = float(re.match(r"x = (-?[\d.]+):", drawn["readout"]).group(1))
    assert abs(shown_x - payload["x"][index]) <= 0.005 + 1e-9, drawn["readout"]
    modes = np.array(payload["modes"][index])
    # the markers sit where the chapter's data put the modes ...
    assert len(drawn["modes"]) == len(modes), (drawn["modes"], modes)
    np.testing.assert_allclose(drawn["modes"], modes, atol=tolerance)
    # ... which are the peaks of the mixture curve as drawn
    peaks = _curve_maxima(drawn["mixture"], payload["minModeHeight"])
    assert len(peaks) == len(modes), (peaks, modes)
    np.testing.assert_allclose(peaks, modes, atol=tolerance)
    np.testing.assert_allclose(np.ravel(drawn["hdr"]), np.ravel(payload["hdr"][index]),
                               atol=tolerance)
    return modes


def _check_temperature_drawing(drawn, payload, index):
    assert drawn["index"] == drawn["value"] == index
    shown_tau = float(re.match(r"τ = ([\d.]+):", drawn["readout"]).group(1))
    assert shown_tau == payload["taus"][index], drawn["readout"]
    codes = _decode(payload["samples"][index], np.uint16)
    x_low, x_high, n = payload["x"]
    y_low, y_high = payload["yView"]
    on_axes = codes != 65535
    expected = np.stack([np.linspace(x_low, x_high, n)[on_axes],
                         y_low + (y_high - y_low) * codes[on_axes] / 65534], axis=1)
    drawn_points = np.asarray(drawn["samples"])
    assert drawn_points.shape == expected.shape, (drawn_points.shape, expected.shape)
    np.testing.assert_allclose(drawn_points[:, 0], expected[:, 0], atol=drawn["unitsPerPixel"])
    np.testing.assert_allclose(drawn_points[:, 1], expected[:, 1], atol=drawn["yUnitsPerPixel"])
    shown_share = float(re.search(r"([\d.]+)% of the samples outside", drawn["readout"]).group(1))
    assert abs(shown_share - 100 * payload["outside"][index]) <= 0.05 + 1e-9, drawn["readout"]


@pytest.fixture(params=["http", "file"])
def slider_base(request, site_url):
    return site_url if request.param == "http" else SITE.as_uri() + "/"


@pytest.mark.parametrize("page", sorted(SLIDERS))
def test_slider_moves_with_the_keyboard_and_draws_its_data(browser, slider_base, page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    if not (SITE / page).exists():
        _unavailable(f"no {page} in {SITE}: run make book first")
    element_id = SLIDERS[page]
    browser.set_window_size(1280, 1600)
    browser.get_log("browser")
    browser.get(urljoin(slider_base, page))
    assert browser.execute_async_script(WAIT_FOR_MATHJAX), f"{page}: MathJax did not typeset"
    box = browser.find_element(By.ID, element_id)
    slider = box.find_element(By.CSS_SELECTOR, "input[type=range]")
    assert box.find_element(By.CSS_SELECTOR, f"label[for='{slider.get_attribute('id')}']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", box)
    first = browser.execute_script(SLIDER_DRAWING, element_id)
    assert first is not None, f"{page}: the slider drew nothing (script not run?)"
    payload = json.loads(first["json"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    scheme = slider_base.split(":")[0]
    stem = page.split("/")[-1].replace(".html", "")

    if payload["kind"] == "slice":
        x = np.array(payload["x"])
        start = int(np.argmin(np.abs(x)))
        assert x[start] == 0.0
        modes_0 = _check_slice_drawing(first, payload, start)
        # at x = 0 the drawn peaks are the chapter's (its MDN peaks are within 0.2 of these)
        np.testing.assert_allclose(modes_0, CHAPTER_6_PEAKS_AT_0, atol=0.2)
        box.screenshot(str(SCREENSHOTS / f"{stem}_slider_x_{x[start]:.2f}.png"))
        slider.send_keys(Keys.ARROW_LEFT * 40)
        second = browser.execute_script(SLIDER_DRAWING, element_id)
        assert second["mixtureD"] != first["mixtureD"], "the drawing did not change"
        modes_1 = _check_slice_drawing(second, payload, start - 40)
        assert len(modes_1) != len(modes_0) or np.max(np.abs(modes_1 - modes_0)) > 0.1
        box.screenshot(str(SCREENSHOTS / f"{stem}_slider_x_{x[start - 40]:.2f}.png"))
        slider.send_keys(Keys.ARROW_RIGHT * 40)
        back = browser.execute_script(SLIDER_DRAWING, element_id)
        assert back["mixtureD"] == first["mixtureD"], "moving back did not restore the drawing"
    else:
        taus = np.array(payload["taus"])
        start = int(np.flatnonzero(taus == 1.0)[0])
        _check_temperature_drawing(first, payload, start)
        box.screenshot(str(SCREENSHOTS / f"{stem}_slider_tau_1.png"))
        slider.send_keys(Keys.END)
        second = browser.execute_script(SLIDER_DRAWING, element_id)
        assert second["samplesD"] != first["samplesD"], "the drawing did not change"
        _check_temperature_drawing(second, payload, len(taus) - 1)
        box.screenshot(str(SCREENSHOTS / f"{stem}_slider_tau_{taus[-1]:g}.png"))
        slider.send_keys(Keys.HOME, Keys.ARROW_RIGHT)
        _check_temperature_drawing(browser.execute_script(SLIDER_DRAWING, element_id), payload, 1)
        assert payload["outside"][-1] > payload["outside"][start] > payload["outside"][0]

    # readable at phone width: the widget fits the screen without sideways scrolling
    browser.set_window_size(390, 900)
    phone = None
    for _ in range(20):   # the drawing re-lays itself out 100 ms after a resize
        browser.execute_script("return new Promise(r => setTimeout(r, 100));")
        phone = browser.execute_script(SLIDER_DRAWING, element_id)
        if phone["width"] <= phone["viewport"]:
            break
    assert phone["width"] <= phone["viewport"] and phone["overflow"] <= 1, phone["width"]
    if scheme == "http":
        box.screenshot(str(SCREENSHOTS / f"{stem}_slider_phone.png"))
    browser.set_window_size(1280, 1600)

    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"{page}: console errors: {errors}"
    loaded = browser.execute_script(RESOURCES)
    outside = [u for u in loaded if not (u.startswith(slider_base) or u.startswith("data:")
                                         or u.startswith("blob:"))]
    assert not outside, f"{page}: requests outside the site: {outside}"
    html_bytes = (SITE / page).stat().st_size
    assert html_bytes < MAX_PAGE_BYTES, f"{page}: {html_bytes / 1e6:.2f} MB of HTML"
    if scheme != "http":   # Chromium lists no file:// resources in the Performance API
        return
    # Page weight: the page and every file it loaded, as bytes on disk and gzip-compressed
    # (what a web server that compresses, such as GitHub Pages, transfers).
    files = {SITE / page}
    for url in loaded[1:]:
        path = SITE / unquote(urlparse(url).path[len(urlparse(slider_base).path):])
        if path.is_file():
            files.add(path)
    raw = sum(f.stat().st_size for f in files)
    compressed = sum(len(gzip.compress(f.read_bytes(), 6)) for f in files)
    print(f"{page}: page weight {raw / 1e6:.2f} MB on disk, {compressed / 1e6:.2f} MB gzip-"
          f"compressed ({len(files)} files, HTML {html_bytes / 1e6:.2f} MB)")
    assert compressed < MAX_PAGE_BYTES, f"{page}: {compressed / 1e6:.2f} MB transferred (gzip)"


# ---------------------------------------------------------------- layout on a phone and a desktop (issue 25)

PHONE, DESKTOP = (390, 844), (1366, 900)
CHAPTER_FOR_NAVIGATION, NAVIGATION_TARGET = "book/03_loss.html", "05_temperature.html"

# Facts about the display equations and the page's width, read after MathJax typeset them.
# A formula (mjx-math) is "too wide" when it is wider than the room its box has beside the
# equation number. Its box (mjx-container) must then scroll sideways inside the equation's
# div (never widen the page), and the number must not lie over it.
LAYOUT_FACTS = """
const de = document.documentElement;
const equations = Array.from(document.querySelectorAll('div.math')).map(div => {
  const box = div.querySelector(':scope > mjx-container');
  const formula = box && box.querySelector(':scope > mjx-math');
  if (!formula) { return null; }
  const eqno = div.querySelector(':scope > span.eqno');
  const d = div.getBoundingClientRect(), b = box.getBoundingClientRect();
  const n = eqno ? eqno.getBoundingClientRect() : null;
  const room = d.width - (n ? n.width : 0);
  const style = getComputedStyle(box);
  const before = box.scrollLeft;
  box.scrollLeft = box.scrollWidth;
  const scrolled = box.scrollLeft - before;
  box.scrollLeft = before;
  return {
    label: eqno ? eqno.textContent.replace('#', '').trim() : '',
    tex: (div.querySelector('mjx-assistive-mml') || div).textContent.trim().slice(0, 70),
    formulaWidth: formula.getBoundingClientRect().width, room: room,
    boxLeft: b.left, boxRight: b.right, divLeft: d.left, divRight: d.right,
    overflowX: style.overflowX, scrollWidth: box.scrollWidth, clientWidth: box.clientWidth,
    // a cue that does not depend on the browser drawing a scrollbar: edge shadows that
    // scroll with the content (background-attachment: local)
    edgeCue: style.backgroundImage.includes('gradient') && style.backgroundAttachment.includes('local'),
    scrolled: scrolled,
    numberOverFormula: !!n && n.width > 0 && n.left < b.right - 0.5 && n.right > b.left + 0.5,
  };
}).filter(e => e);
const wide = [];
for (const e of document.body.querySelectorAll('*')) {
  const r = e.getBoundingClientRect();
  if (r.width > 0 && r.right > de.clientWidth + 1 && wide.length < 5) {
    wide.push(e.tagName.toLowerCase() + '.' + String(e.className).split(' ')[0] + ': '
              + (e.textContent || '').trim().slice(0, 50));
  }
}
// Inline formulas (MathJax does not break them over lines): each must fit the width of the
// paragraph or list item it sits in, or it is cut off at the column's edge.
const inline = Array.from(document.querySelectorAll('mjx-container:not([display="true"])')).map(box => {
  const block = box.closest('p, li, dd, td, th, figcaption, div');
  const room = block ? block.clientWidth : de.clientWidth;
  return {tex: (box.querySelector('mjx-assistive-mml') || box).textContent.trim().slice(0, 70),
          width: box.getBoundingClientRect().width, room: room};
}).filter(e => e.width > e.room + 1);
return {scrollWidth: de.scrollWidth, clientWidth: de.clientWidth, equations: equations, wide: wide,
        inlineTooWide: inline,
        mathText: Array.from(document.querySelectorAll('mjx-assistive-mml mtext'), t => t.textContent)};
"""

_layout_cache = {}


def _layout(browser, site_url, page, size):
    """The layout facts of ``page`` at window ``size`` (read once per page and size)."""
    if (page, size) not in _layout_cache:
        browser.set_window_size(*size)
        browser.get(urljoin(site_url, page))
        assert browser.execute_async_script(WAIT_FOR_MATHJAX), f"{page}: MathJax did not typeset"
        _layout_cache[page, size] = browser.execute_script(LAYOUT_FACTS)
        browser.set_window_size(1280, 1600)
    return _layout_cache[page, size]


def _too_wide(facts):
    return [e for e in facts["equations"] if e["formulaWidth"] > e["room"] + 1]


@pytest.mark.parametrize("page", chapter_pages())
def test_no_page_scrolls_sideways_on_a_phone(browser, site_url, page):
    facts = _layout(browser, site_url, page, PHONE)
    assert facts["scrollWidth"] <= facts["clientWidth"], (
        f"{page} scrolls sideways at {PHONE[0]} px: {facts['scrollWidth']} px of content in "
        f"{facts['clientWidth']} px; reaching past the edge: {facts['wide']}")


FIGURE_BOXES = """
return Array.from(document.querySelectorAll('.bd-article a.image-reference > img'), img => {
  const box = img.parentElement;
  return {src: img.getAttribute('src'), shown: img.getBoundingClientRect().width,
          drawn: parseFloat(img.style.width), box: box.getBoundingClientRect().width,
          scrolls: getComputedStyle(box).overflowX,
          column: document.querySelector('.bd-article').getBoundingClientRect().width,
          screen: window.innerWidth};
});
"""


@pytest.mark.parametrize("page", ["book/05_temperature.html", "book/07_report.html",
                                  "book/09_robot_arm.html", "book/11_alternatives.html",
                                  "book/13_real_data.html"])
def test_figures_keep_readable_text_on_a_phone(browser, site_url, page):
    """On a phone a figure is shown at its size in inches or at 1.25 screen widths, whichever
    is smaller (a 7.5-inch figure's 12-point text then shows at about 11 px instead of 8),
    in a box that scrolls sideways inside the article column."""
    browser.set_window_size(*PHONE)
    browser.get(urljoin(site_url, page))
    figures = browser.execute_script(FIGURE_BOXES)
    assert figures, f"{page}: no figures"
    problems = [f for f in figures if f["shown"] < min(f["drawn"], 1.25 * f["screen"]) - 1
                or f["box"] > f["column"] + 1 or f["scrolls"] != "auto"]
    assert not problems, f"{page}: {problems}"


@pytest.mark.parametrize("page", ["book/07_report.html", "book/09_robot_arm.html"])
def test_table_captions_fit_a_phone_screen(browser, site_url, page):
    """A wide table scrolls inside its box on a phone; its caption stays on the screen."""
    browser.set_window_size(*PHONE)
    browser.get(urljoin(site_url, page))
    edges = browser.execute_script(
        "return Array.from(document.querySelectorAll('main table caption'), c => "
        "[c.getBoundingClientRect().left, c.getBoundingClientRect().right, "
        "document.documentElement.clientWidth])")
    assert edges, f"{page}: no table captions"
    assert all(0 <= left and right <= width + 1 for left, right, width in edges), edges


CAPTION_EDGES = """
return Array.from(document.querySelectorAll('.pst-scrollable-table-container > table > caption'), c => {
  const box = c.parentElement.parentElement.getBoundingClientRect(), edge = c.getBoundingClientRect();
  return {caption: c.textContent.slice(0, 60), left: edge.left - box.left, right: box.right - edge.right};
});
"""


@pytest.mark.parametrize("page", ["book/03_loss.html", "book/10_training_failures.html",
                                  "book/11_alternatives.html"])
def test_wide_table_captions_stay_inside_their_box_on_a_desktop(browser, site_url, page):
    """A table wider than the column scrolls inside its box; its caption is not cut at the
    box's right edge (those of tables 3.2, 10.2 and 11.2 were, at 1366 px)."""
    browser.set_window_size(*DESKTOP)
    browser.get(urljoin(site_url, page))
    edges = browser.execute_script(CAPTION_EDGES)
    assert edges, f"{page}: no table captions"
    cut = [e for e in edges if e["left"] < -1 or e["right"] < -1]
    assert not cut, f"{page}: captions reaching past their table's box: {cut}"


CODE_CUT_WHEN_PRINTED = """
return Array.from(document.querySelectorAll('.bd-article div.highlight pre, .bd-article div.cell_output pre'))
  .filter(pre => pre.getClientRects().length && pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => pre.textContent.split('\\n').reduce((a, b) => a.length >= b.length ? a : b).slice(0, 80));
"""


@pytest.mark.parametrize("page", [p for p in NOTEBOOK_PAGES if "index" not in p])
def test_printed_code_wraps_at_the_margin(browser, site_url, page):
    """Printed (the print-to-PDF button), a code cell or text output wraps its long lines
    instead of running past the page's right margin (an A4 page is about 720 px wide)."""
    browser.set_window_size(720, 1000)
    browser.get(urljoin(site_url, page))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        cut = browser.execute_script(CODE_CUT_WHEN_PRINTED)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert not cut, f"{page}: printed code cut at the margin: {cut[:5]}"


@pytest.mark.parametrize("page", chapter_pages())
def test_wide_equations_scroll_inside_their_box_on_a_phone(browser, site_url, page):
    """Where a formula is wider than the screen, its box scrolls sideways (the whole
    formula can be reached), stays inside the equation's column, the equation number is
    not drawn over it, and the box shows that it continues even where the browser draws no
    scrollbar until it is touched (phones): shadows at the edges that hide when scrolled to
    the end. (Desktop Chromium draws a scrollbar; the edge cue is what phones lacked.)"""
    facts = _layout(browser, site_url, page, PHONE)
    too_wide = _too_wide(facts)
    print(f"{page}: {len(too_wide)} of {len(facts['equations'])} display equations wider than "
          f"the screen at {PHONE[0]} px: {[e['label'] or e['tex'][:30] for e in too_wide]}")
    problems = []
    for e in too_wide:
        name = e["label"] or e["tex"]
        if e["overflowX"] not in ("auto", "scroll") or e["scrollWidth"] < e["formulaWidth"] - 1:
            problems.append(f"{name}: its box does not scroll (overflow-x {e['overflowX']})")
        elif e["scrolled"] < e["scrollWidth"] - e["clientWidth"] - 1:
            problems.append(f"{name}: the end of the formula cannot be scrolled to")
        if not e["edgeCue"]:
            problems.append(f"{name}: nothing shows that it continues past the edge")
        if e["boxRight"] > e["divRight"] + 1 or e["boxLeft"] < e["divLeft"] - 1:
            problems.append(f"{name}: its box reaches outside the equation's column (cut off)")
    for e in facts["equations"]:
        if e["numberOverFormula"]:
            problems.append(f"{e['label']}: the equation number is drawn over the formula")
    assert not problems, f"{page} at {PHONE[0]} px:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", chapter_pages())
def test_inline_formulas_fit_their_paragraph_on_a_phone(browser, site_url, page):
    """An inline formula cannot be broken over lines: one wider than its paragraph at
    390 px is cut off. Such a formula is to be a display equation in the chapter."""
    facts = _layout(browser, site_url, page, PHONE)
    too_wide = [f"{e['tex']!r}: {e['width']:.0f} px in {e['room']:.0f} px"
                for e in facts["inlineTooWide"]]
    assert not too_wide, f"{page}: inline formulas wider than their paragraph at {PHONE[0]} " \
        "px:\n" + "\n".join(too_wide)


@pytest.mark.parametrize("page", chapter_pages())
def test_display_equations_fit_their_column_on_a_desktop(browser, site_url, page):
    """At 1366 px no display equation needs its scrollbar: a wider one is to be broken over
    lines (aligned/split) in the chapter's markdown."""
    facts = _layout(browser, site_url, page, DESKTOP)
    too_wide = [f"{e['label'] or '(unnumbered)'} {e['tex']!r}: {e['formulaWidth']:.0f} px "
                f"in {e['room']:.0f} px" for e in _too_wide(facts)]
    assert not too_wide, f"{page}: equations wider than their column at {DESKTOP[0]} px:\n" \
        + "\n".join(too_wide)


@pytest.mark.parametrize("page", chapter_pages())
def test_no_tex_escape_shows_in_text_inside_math(browser, site_url, page):
    """Text inside math (\\text, \\texttt) shows its characters, not TeX escapes such as the
    literal "sigma\\_temp"."""
    facts = _layout(browser, site_url, page, DESKTOP)
    raw = [text for text in facts["mathText"] if "\\" in text]
    assert not raw, f"{page}: TeX escapes shown as text: {raw}"


VISIBLE = """
const e = arguments[0];
const r = e.getBoundingClientRect();
if (r.width < 1 || r.height < 1 || r.bottom < 0 || r.right < 0
    || r.top > innerHeight || r.left > innerWidth) { return false; }
const s = getComputedStyle(e);
if (s.visibility === 'hidden' || s.display === 'none' || parseFloat(s.opacity) === 0) { return false; }
const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
return !!hit && (hit === e || e.contains(hit) || hit.contains(e));
"""


def _wait_for(browser, condition, message, timeout=5.0):
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        return WebDriverWait(browser, timeout, poll_frequency=0.1).until(lambda _: condition())
    except Exception as error:  # TimeoutException: say what was awaited
        raise AssertionError(message) from error


def _visible(browser, css):
    from selenium.webdriver.common.by import By
    return [e for e in browser.find_elements(By.CSS_SELECTOR, css)
            if browser.execute_script(VISIBLE, e)]


def _open_page(browser, site_url, page, size):
    browser.set_window_size(*size)
    browser.get(urljoin(site_url, page))
    browser.execute_async_script(WAIT_FOR_MATHJAX)
    browser.execute_script("window.scrollTo(0, 0);")


CHAPTER_LINKS = "nav.bd-docs-nav a.reference.internal"


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_chapter_list_opens_by_its_button_and_its_links_work(browser, site_url, size):
    """The ☰ button in the article header shows the list of chapters (on a phone it opens
    it; on a desktop, where the list starts open, it hides and shows it again), and a
    chapter in the list can be followed."""
    _open_page(browser, site_url, CHAPTER_FOR_NAVIGATION, size)
    buttons = _visible(browser, ".primary-toggle")
    assert len(buttons) == 1, f"{len(buttons)} visible chapter-list buttons at {size[0]} px"
    if size == DESKTOP:
        header = browser.execute_script(
            "const h = document.querySelector('#pst-header');"
            " return h ? h.getBoundingClientRect().height : 0;")
        assert header < 1, f"a {header:.0f} px top bar above the page (it holds only a search box)"
        assert _visible(browser, CHAPTER_LINKS), "the chapter list is not shown on a desktop"
        buttons[0].click()
        _wait_for(browser, lambda: not _visible(browser, CHAPTER_LINKS),
                  f"the ☰ button did not hide the chapter list at {size[0]} px")
        buttons[0].click()
    else:
        assert not _visible(browser, CHAPTER_LINKS), "the chapter list covers the page on a phone"
        buttons[0].click()
    links = _wait_for(browser, lambda: _visible(browser, CHAPTER_LINKS),
                      f"the ☰ button did not show the chapter list at {size[0]} px")
    target = [a for a in links if a.get_attribute("href").split("#")[0].endswith(NAVIGATION_TARGET)]
    assert target, f"no visible link to {NAVIGATION_TARGET} in the chapter list"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"chapter_list_{size[0]}px.png"))
    target[0].click()
    _wait_for(browser, lambda: browser.current_url.split("#")[0].endswith(NAVIGATION_TARGET),
              f"following the chapter list's link did not open {NAVIGATION_TARGET}")
    browser.set_window_size(1280, 1600)


@pytest.mark.parametrize("size", [PHONE, (1024, 768)], ids=["phone", "tablet"])
def test_on_this_page_opens_by_its_button_and_its_links_work(browser, site_url, size):
    """Below 1200 px the page's own table of contents is behind the "On this page" button
    in the article header: the button shows it, a section in it can be followed, and
    following it closes the contents, so that the section is not hidden behind them."""
    _open_page(browser, site_url, CHAPTER_FOR_NAVIGATION, size)
    section_links = "#pst-page-toc-nav a.nav-link"
    assert not _visible(browser, section_links), "the page's contents are shown before asking"
    buttons = _visible(browser, ".secondary-toggle")
    assert len(buttons) == 1, f"{len(buttons)} visible 'On this page' buttons at {size[0]} px"
    buttons[0].click()
    links = _wait_for(browser, lambda: _visible(browser, section_links),
                      f"the 'On this page' button did not show the page's contents at {size[0]} px")
    anchor = links[-1].get_attribute("href").split("#")[1]
    links[-1].click()
    _wait_for(browser, lambda: browser.current_url.endswith("#" + anchor),
              f"following the section link #{anchor} did not go there")
    _wait_for(browser, lambda: not _visible(browser, section_links),
              f"the page's contents stayed open over the section at {size[0]} px")
    browser.set_window_size(1280, 1600)


# ---------------------------------------------------------------- figures, page weight (issue 25)

def _chapter_html(page):
    html = (SITE / page).read_text(encoding="utf-8")
    return html[html.index("<main"):]


def test_every_figure_links_to_its_full_size_file_at_its_size_in_inches():
    """Each image a chapter shows has a width (its size in inches at 96 px per inch,
    book/_ext/figures.py) and sits in a link to its own file, which a phone reader can open
    and zoom into."""
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    problems = []
    for page in NOTEBOOK_PAGES:
        main = _chapter_html(page)
        for img in re.findall(r"<img\b[^>]*>", main):
            src = re.search(r'src="([^"]*_images/[^"]+)"', img)
            if not src:
                continue
            if not re.search(r'style="width: \d+px;', img):
                problems.append(f"{page}: {src.group(1)} has no width")
            before = main[:main.index(img)]
            link = before[before.rindex("<a "):] if "<a " in before else ""
            href = re.search(r'href="([^"]+)"', link)
            if not (href and "</a>" not in link and "image-reference" in link
                    and Path(href.group(1)).name == Path(src.group(1)).name):
                problems.append(f"{page}: {src.group(1)} is not linked to its file")
    assert not problems, "\n".join(problems)


def test_figures_are_sharp_and_use_the_books_palette():
    """The chapters' PNG figures have 200 pixels per inch or more (book/matplotlibrc), and
    none uses matplotlib's old default blue/red/green (tab10), which the book's
    Okabe-Ito cycle replaces."""
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    tab10 = {(31, 119, 180), (214, 39, 40), (44, 160, 44)}   # tab:blue, tab:red, tab:green
    low, old = [], []
    for page in NOTEBOOK_PAGES:
        for src in re.findall(r'<img\b[^>]*src="([^"]*_images/[^"]+\.png)"', _chapter_html(page)):
            with Image.open(SITE / "book" / src) as image:
                dpi = image.info.get("dpi", (0, 0))[0]
                colours = {c for _, c in (image.convert("RGB").getcolors(1 << 24) or [])}
            if dpi < 199:
                low.append(f"{page}: {Path(src).name} at {dpi:.0f} dpi")
            if colours & tab10:
                old.append(f"{page}: {Path(src).name} draws {sorted(colours & tab10)}")
    assert not low, "figures below 200 dpi:\n" + "\n".join(low)
    assert not old, "figures in tab10 colours (name colours C0, C1, ... instead):\n" + "\n".join(old)


def test_plus_minus_stays_with_its_numbers():
    """"2.986 ± 0.018" cannot wrap: the spaces around ± are no-break spaces (outside code)."""
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    loose = []
    for page in chapter_pages():
        text = re.sub(r"<(pre|code|script|style)\b.*?</\1>", "", _chapter_html(page), flags=re.S)
        text = re.sub(r"<[^>]+>", "", text)
        loose += [f"{page}: {m.group(0)!r}" for m in re.finditer(r"\S*[ \t\n]±[ \t\n]?\S*|\S*±[ \t\n]\S*", text)]
    assert not loose, "± that can wrap away from its numbers:\n" + "\n".join(loose[:20])


def test_the_site_ships_no_source_maps_and_only_the_mathjax_it_uses():
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    assert not list(SITE.rglob("*.map")), "source maps in the site"
    mathjax = SITE / "_static" / "mathjax"
    size = sum(p.stat().st_size for p in mathjax.rglob("*") if p.is_file())
    assert (mathjax / "tex-chtml.js").is_file() and size < 4_000_000, f"{size / 1e6:.1f} MB of MathJax"


def test_only_the_search_page_loads_the_search_index():
    if not (SITE / "index.html").exists():
        _unavailable(f"no site at {SITE}: run make book first")
    loading = [page for page in chapter_pages()
               if "searchindex.js" in (SITE / page).read_text(encoding="utf-8")]
    assert not loading, f"pages that load the whole search index: {loading}"
    assert "searchindex.js" in (SITE / "search.html").read_text(encoding="utf-8")


def test_search_finds_a_chapter(browser, site_url):
    from selenium.webdriver.common.by import By
    browser.set_window_size(*DESKTOP)
    browser.get(urljoin(site_url, "search.html?q=temperature"))
    results = _wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "ul.search li a"),
                        "the search page listed no result for 'temperature'", timeout=20)
    assert any("05_temperature" in (a.get_attribute("href") or "") for a in results)
    browser.set_window_size(1280, 1600)


ANIMATION = """
const picture = document.querySelector('picture.mdn-animation');
if (!picture) { return null; }
const img = picture.querySelector('img');
const button = document.querySelector('button.mdn-animation-toggle');
return {src: img.currentSrc, loaded: img.complete && img.naturalWidth > 0,
        button: button ? button.textContent : null};
"""


def _animation(browser):
    return _wait_for(browser, lambda: (lambda a: a if a and a["loaded"] and a["button"] else None)(
        browser.execute_script(ANIMATION)), "the animation's image or its button did not appear",
        timeout=20)


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_the_animation_can_be_stilled(browser, site_url, motion):
    """Chapter 5's GIF: readers who ask for reduced motion see a still frame (and a button
    to play the animation); others see it move, with a button that pauses it."""
    from selenium.webdriver.common.by import By
    page = "book/05_temperature.html"
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-reduced-motion", "value": motion}]})
    try:
        browser.get(urljoin(site_url, page))
        first = _animation(browser)
        assert first is not None, f"{page}: no <picture class=mdn-animation>"
        still = motion == "reduce"
        assert first["src"].endswith("-still.png" if still else ".gif"), first
        assert first["button"] == ("Play the animation" if still else "Pause the animation")
        with Image.open(SITE / unquote(urlparse(first["src"]).path.lstrip("/"))) as image:
            assert getattr(image, "n_frames", 1) == (1 if still else image.n_frames)
        browser.find_element(By.CSS_SELECTOR, "button.mdn-animation-toggle").click()
        second = _wait_for(browser, lambda: (lambda a: a if a["src"] != first["src"] and a["loaded"]
                                             else None)(browser.execute_script(ANIMATION)),
                           "the button did not change the image")
        assert second["src"].endswith(".gif" if still else "-still.png"), second
        if not still:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(SCREENSHOTS / "05_temperature_paused.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


# Each page with every file it loads, gzip-compressed as a compressing web server (GitHub
# Pages) sends them, must stay within its budget. Measured this way at 1366 px: 1.0-2.6 MB
# per page before issue 25 (the whole Font Awesome and the search index on every page,
# 100-dpi PNGs, an 861 kB GIF), 0.44-1.35 MB after (chapters 0.89-1.18 MB, chapter 5
# 1.35 MB, the front page 0.80 MB); the budgets leave 20-30% for the pages to grow.
PAGE_BUDGET = {"default": 1_400_000, "book/05_temperature.html": 1_700_000,
               **dict.fromkeys(["book/index.html", "book/api.html", "book/bibliography.html",
                                "search.html"], 1_000_000)}


# The page's requests once it has settled: its fonts loaded (MathJax asks for its fonts
# as it draws) and no new request for a second.
SETTLED_RESOURCES = """
const done = arguments[arguments.length - 1];
const list = () => performance.getEntriesByType('resource').map(e => [e.name, e.responseStatus || 0]);
document.fonts.ready.then(() => {
  let count = -1, quiet = 0, rounds = 0;
  (function poll() {
    const now = performance.getEntriesByType('resource').length;
    quiet = now === count ? quiet + 1 : 0;
    count = now;
    if (quiet >= 5 || ++rounds > 100) { done(list()); } else { setTimeout(poll, 200); }
  })();
});
"""


@pytest.mark.parametrize("page", chapter_pages() + ["search.html"])
def test_page_weight_is_within_its_budget(browser, site_url, page):
    browser.set_window_size(*DESKTOP)
    browser.get(urljoin(site_url, page))
    assert browser.execute_async_script(WAIT_FOR_MATHJAX), f"{page}: MathJax did not typeset"
    entries = browser.execute_async_script(SETTLED_RESOURCES)
    failed = [url for url, status in entries if status >= 400]
    assert not failed, f"{page}: requests that failed: {failed}"
    files = {SITE / page}
    for url, _ in entries:
        if url.startswith(site_url):
            path = SITE / unquote(urlparse(url).path.lstrip("/"))
            if path.is_file():
                files.add(path)
    raw = sum(f.stat().st_size for f in files)
    compressed = sum(len(gzip.compress(f.read_bytes(), 6)) for f in files)
    budget = PAGE_BUDGET.get(page, PAGE_BUDGET["default"])
    print(f"{page}: {raw / 1e6:.2f} MB on disk, {compressed / 1e6:.2f} MB gzip-compressed, "
          f"{len(files)} files (budget {budget / 1e6:.2f} MB)")
    assert compressed <= budget, (
        f"{page}: {compressed / 1e6:.2f} MB gzip-compressed with its files, budget "
        f"{budget / 1e6:.2f} MB; largest: "
        + ", ".join(f"{f.name} {f.stat().st_size / 1e3:.0f} kB"
                    for f in sorted(files, key=lambda f: -f.stat().st_size)[:5]))
    browser.set_window_size(1280, 1600)


ICONS = """
return {drawn: document.querySelectorAll('svg[data-icon]').length,
        left: Array.from(document.querySelectorAll('i[class*="fa-"], span[class*="fa-"]'),
                         e => e.className)};
"""


@pytest.mark.parametrize("page", ["book/05_temperature.html", "search.html"])
def test_every_icon_is_drawn(browser, site_url, page):
    """The site's Font Awesome holds only the icons it names (book/_ext/lighter_pages.py):
    every icon on the page is still drawn."""
    browser.set_window_size(*DESKTOP)
    browser.get(urljoin(site_url, page))
    icons = _wait_for(browser, lambda: (lambda r: r if r["drawn"] and not r["left"] else None)(
        browser.execute_script(ICONS)), f"{page}: icons not drawn: {browser.execute_script(ICONS)}")
    assert icons["drawn"] >= 10
    browser.set_window_size(1280, 1600)

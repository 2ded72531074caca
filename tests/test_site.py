"""The built site as a reader gets it, checked in headless Chromium.

Needs the site (``make book``; ``make test`` builds it first) and Debian's ``chromium``
and ``chromium-driver``. Without Chromium the browser checks are skipped with a message,
unless ``MDN_REQUIRE_BROWSER=1`` (set by .ci/run), where they fail instead.
"""
import base64
import functools
import http.server
import io
import os
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
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

"""`make book` must fail on a failing chapter, also when nothing changed since last time."""
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]


def _make_book(folder: Path, chapter_code: str) -> None:
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    (folder / "book").mkdir()
    shutil.copy(ROOT / "book" / "references.bib", folder / "book" / "references.bib")
    for support in ("_ext", "_static"):  # the local Sphinx extension and the favicon
        shutil.copytree(ROOT / "book" / support, folder / "book" / support,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: chapter\n")
    (folder / "index.md").write_text("# A small book\n\nOne chapter.\n")
    notebook = new_notebook(cells=[new_markdown_cell("# Chapter"), new_code_cell(chapter_code)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, folder / "chapter.ipynb")


def _make(folder: Path) -> subprocess.CompletedProcess:
    """The real `make book`, pointed at another folder."""
    return subprocess.run(["make", "-C", str(ROOT), "book", f"BOOK_DIR={folder}"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MAKEFLAGS": ""})


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_book_fails_on_a_failing_chapter_every_time(tmp_path):
    _make_book(tmp_path, "raise RuntimeError('this chapter fails on purpose')")
    first = _make(tmp_path)
    assert first.returncode != 0, first.stdout[-2000:]
    assert "this chapter fails on purpose" in first.stdout + first.stderr
    second = _make(tmp_path)  # nothing changed: must still fail
    assert second.returncode != 0, second.stdout[-2000:]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_book_succeeds_on_a_good_chapter(tmp_path):
    _make_book(tmp_path, "print(6 * 7)")
    result = _make(tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert (tmp_path / "_build" / "html" / "chapter.html").exists()

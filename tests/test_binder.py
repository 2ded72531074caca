"""Binder readiness: environment.yml's pip section alone must run the training chapter.

A conda-less stand-in for Binder: a fresh virtual environment gets exactly the pip
requirements of environment.yml (which include this package) and nothing else, then
executes chapter 4 with nbval.
"""
import os
import subprocess
import sys

from test_environment import ROOT, environment_pip_requirements

CHAPTER = ROOT / "book" / "04_training.ipynb"


def test_training_chapter_runs_in_an_environment_made_from_environment_yml(tmp_path):
    venv = tmp_path / "binder-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    requirements = tmp_path / "requirements.txt"
    # conda runs this pip section from the folder of environment.yml, where "." is ROOT.
    lines = [f"-e {ROOT}" if r == "-e ." else r for r in environment_pip_requirements()]
    requirements.write_text("\n".join(lines) + "\n")
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
                             cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert install.returncode == 0, install.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    run = subprocess.run([str(python), "-m", "pytest", "--nbval-lax", "--nbval-current-env",
                          "-p", "no:cacheprovider", "-q", str(CHAPTER)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    imported_from = subprocess.run(
        [str(python), "-c", "import mdn_utils, sys; print(mdn_utils.__file__, sys.prefix)"],
        capture_output=True, text=True, env=env, cwd=tmp_path).stdout
    assert str(venv) in imported_from.split()[1]

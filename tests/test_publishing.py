"""The publishing workflow (.github/workflows/publish.yml) builds the site as the README
tells a reader to, publishes what that build writes, and takes the repository's URL from
the one place that names it, `repository.url` in _config.yml."""
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"


def _steps():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    return job, job["steps"]


def _readme_commands():
    """The commands of the README's set-up block (```bash ... ```), comments removed."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme[readme.index("## Set-up"):]
    block = re.search(r"```bash\n(.*?)```", setup, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]


def test_the_workflow_builds_with_the_readmes_command():
    readme_build = [c for c in _readme_commands() if c.startswith("make book")]
    assert readme_build == ["make book"], _readme_commands()
    _, steps = _steps()
    builds = [s["run"].strip() for s in steps if "make" in s.get("run", "")
              or "jupyter-book" in s.get("run", "")]
    assert builds == readme_build, builds


def test_the_workflow_publishes_what_the_build_writes():
    job, steps = _steps()
    uses = [s.get("uses", "").split("@")[0] for s in steps]
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses
    assert uses.index("actions/upload-pages-artifact") < uses.index("actions/deploy-pages")
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"].strip("./") == "_build/html"
    assert "_build/html" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert job["permissions"]["pages"] == "write" and job["permissions"]["id-token"] == "write"


def test_the_workflow_reads_the_repository_url_from_config(tmp_path):
    """The workflow names no repository itself; its step that reads _config.yml finds the
    URL that YAML finds there."""
    text = WORKFLOW.read_text(encoding="utf-8")
    assert not re.search(r"github\.com/(?!\$)[\w.-]+/[\w.-]+", text.split("\njobs:")[1]), \
        "the workflow names a repository instead of reading _config.yml"
    _, steps = _steps()
    (reader,) = [s for s in steps if "_config.yml" in s.get("run", "")]
    script = re.search(r"<<'PY'\n(.*?)\nPY\n", reader["run"], re.S).group(1)
    found = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.strip()
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert found == config["repository"]["url"]
    # the same script on a config whose URL was changed reads the new one
    moved = (ROOT / "_config.yml").read_text(encoding="utf-8").replace(
        config["repository"]["url"], "https://github.com/someone/elsewhere")
    (tmp_path / "_config.yml").write_text(moved, encoding="utf-8")
    found = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                           text=True, check=True).stdout.strip()
    assert found == "https://github.com/someone/elsewhere"

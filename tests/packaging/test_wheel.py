"""The product installs like a library: the built wheel holds every package and every file the
code reads at run time, and a fresh venv with only the wheel (third-party dependencies borrowed
from this venv) answers in LLM mode and runs the eval gates from a folder outside the repo."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from advisor.core.prompts import load_prompt
from advisor.core.settings import Settings
from tests.evals.tiny_corpus import ITEMS, write_corpus, write_dataset
from tests.fakes.openai_server import FakeOpenAI, answering

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGES = PYPROJECT["tool"]["importlinter"]["root_packages"]  # every top-level package of ours

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the sources (the build never writes into the repo)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "--wheel-dir", str(dist), str(src)],
        check=True,
        timeout=300,
    )
    (built,) = dist.glob("cto_advisor-*.whl")
    return built


def _read_at_run_time() -> set[str]:
    """Files the code opens as package data: every prompt it loads, every resources.files() path."""
    needed = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            code = path.read_text(encoding="utf-8")
            needed |= {f"prompts/{name}.md" for name in re.findall(r'load_prompt\("(\w+)"\)', code)}
            for pkg, name in re.findall(r'resources\.files\("([\w.]+)"\)\s*/\s*"([^"]+)"', code):
                needed.add(f"{pkg.replace('.', '/')}/{name}")
    return needed


def test_the_wheel_holds_every_module_and_every_file_read_at_run_time(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {
        p.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    data = {p.relative_to(ROOT).as_posix() for p in (ROOT / "prompts").glob("*.md")}
    data |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "evals/datasets").iterdir()}
    needed = _read_at_run_time()

    assert {"prompts/system.md", "prompts/answer.md", "evals/thresholds.toml"} <= needed
    assert not modules - names, "modules missing from the wheel"
    assert not (data | needed) - names, "package data missing from the wheel"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "cto-advisor = interfaces.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert not [n for n in names if n.startswith(("tests/", "data/", "scripts/"))]


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with only the wheel installed; this venv's site-packages lends the rest."""
    where = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # A plain path line: the borrowed dir's own .pth files (our editable install) are not run.
    lender = sysconfig.get_path("purelib", vars={"base": sys.prefix, "platbase": sys.prefix})
    Path(purelib, "borrowed-dependencies.pth").write_text(lender + "\n")
    return where


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPENAI_BASE_URL")}
    env |= {"ADVISOR_DATA_DIR": str(tmp / "advisor-data"), "HF_HUB_OFFLINE": "1"}
    # MiniLM's ONNX export is made at install time (`python -m advisor.core.onnx_export`, run by
    # `make install`); like the dependencies, the fresh venv borrows this venv's.
    env["ADVISOR_ONNX_DIR"] = str(Settings().onnx_dir)
    return env | extra


def _run(venv: Path, cwd: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin" / "cto-advisor"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_only_the_wheel_provides_our_code_and_its_data(venv, tmp_path):
    probe = (
        "import json, advisor, ingest, evals, interfaces, prompts\n"
        "from evals.thresholds import DEFAULT_PATH, load_thresholds\n"
        "from advisor.core.prompts import load_prompt\n"
        "print(json.dumps({'files': [m.__file__ for m in (advisor, ingest, evals, interfaces, "
        "prompts)], 'gates': len(load_thresholds(DEFAULT_PATH, 'sample')), "
        "'system': load_prompt('system').render()}))\n"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(result.stdout)

    assert all(Path(f).is_relative_to(venv) for f in seen["files"]), seen["files"]
    assert seen["gates"] > 0, "the packaged thresholds.toml was not read"
    assert seen["system"] == load_prompt("system").render()


def test_installed_cli_answers_with_an_llm_and_applies_eval_gates(venv, tmp_path):
    corpus = write_corpus(tmp_path)
    work = tmp_path / "elsewhere"  # not the repo: nothing of ours is importable from here
    work.mkdir()
    env = _env(tmp_path)

    ingested = _run(venv, work, env, "ingest", str(corpus / "playbooks"))
    assert ingested.returncode == 0, ingested.stderr

    with FakeOpenAI(answering("Start every new product on managed Postgres [1].")) as server:
        llm_env = env | {"OPENAI_BASE_URL": server.base_url}
        asked = _run(venv, work, llm_env, "ask", "Which database should a new SaaS start on?")
        request = server.requests[-1]

    assert asked.returncode == 0, asked.stderr
    assert "managed Postgres [1]" in asked.stdout and "databases.md" in asked.stdout
    system, user = request["messages"][0], request["messages"][1]
    assert system["content"].strip() == load_prompt("system").render().strip()
    assert "Start every new SaaS product on managed Postgres" in user["content"]

    dataset = write_dataset(tmp_path / "tiny.jsonl", ITEMS[:2])
    args = ["eval", "--corpus", str(corpus), "--dataset", str(dataset), "--out", "report"]
    gated = _run(venv, work, env, *args, "--fail-under", "hit@5=1.01")

    assert gated.returncode == 1, gated.stdout + gated.stderr
    assert "FAILED" in gated.stderr and "hit@5" in gated.stderr
    report = json.loads((work / "report" / "report.json").read_text())
    assert report["metrics"]["hit@5"] == 1.0

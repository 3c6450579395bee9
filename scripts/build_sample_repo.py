"""Build the sample client repository from scripts/sample_sources/repos/<name>/.

    .venv/bin/python scripts/build_sample_repo.py --out build/sample-repos/haulwise-dispatch

Real commits made with git by several fictional authors at fixed dates (GIT_AUTHOR_DATE and
GIT_COMMITTER_DATE), feature branches merged with --no-ff, a renamed folder... as described by
the source's history.yaml; files come from its tree/ folder, code is synthesised with a fixed
seed. The result is deterministic (the same commit ids on every machine), so re-running leaves an
existing, identical repository in place and `cto-advisor ingest-repo` finds nothing new. The
repository itself is built, never committed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent
SOURCES = ROOT / "sample_sources" / "repos"
NOON = dt.time(12, 0)

_CODE = {
    "php": ("src/{module}/{name}.php", "tests/{name}Test.php", "<?php\n// {title}\n"),
    "python": ("dispatch_api/{module}.py", "tests/test_{module}.py", '"""{title}."""\n'),
    "shell": ("scripts/{module}.sh", None, "#!/bin/sh\n# {title}\n"),
    "terraform": ("terraform/{module}.tf", None, "# {title}\n"),
}
_MODULES = {
    "php": ["Assign", "Manifest", "Drivers", "Depots", "Framework"],
    "python": ["routes", "assignments", "manifests", "proxy", "kafka_outbox", "models"],
    "shell": ["register", "healthcheck", "snapshot"],
    "terraform": ["monitoring", "network", "backups"],
}


def _when(day: dt.date, minutes: int = 0) -> str:
    stamp = dt.datetime.combine(day, NOON, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
    return f"{int(stamp.timestamp())} +0000"


class Builder:
    def __init__(self, path: Path, spec: dict, tree: Path) -> None:
        self.path = path
        self.spec = spec
        self.tree = tree
        self.rnd = random.Random(spec.get("seed", 0))
        self.emails = dict(spec.get("emails", {}))
        self.emails.update(spec.get("aliases", {}))
        self.counter = 0

    def git(self, *args: str, author: str | None = None, when: str | None = None) -> str:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.path),
        }
        if author:
            email = self.emails[author]
            env.update(
                GIT_AUTHOR_NAME=author, GIT_AUTHOR_EMAIL=email, GIT_AUTHOR_DATE=when,
                GIT_COMMITTER_NAME=author, GIT_COMMITTER_EMAIL=email, GIT_COMMITTER_DATE=when,
            )  # fmt: skip
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def commit(self, author: str, when: str, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, author=author, when=when)

    # -- synthetic code ---------------------------------------------------------------------

    def code(self, component: str, language: str, author: str, tests: bool) -> None:
        source, test, header = _CODE[language]
        module = self.rnd.choice(_MODULES[language])
        name = module if language != "php" else f"{module}Service"
        self.counter += 1
        n = self.counter
        rel = Path(component) / source.format(module=module, name=name)
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        old = path.read_text() if path.exists() else header.format(title=f"{component}: {module}")
        lines = old.splitlines()
        if len(lines) > 8 and self.rnd.random() < 0.4:  # rework an earlier line
            i = self.rnd.randrange(2, len(lines))
            lines[i] = lines[i].rstrip() + f"  {_comment(language)} revised {n}"
        lines += _snippet(language, module, n, self.rnd)
        path.write_text("\n".join(lines) + "\n")
        if tests and test:
            test_path = self.path / component / test.format(module=module, name=name)
            test_path.parent.mkdir(parents=True, exist_ok=True)
            prev = (
                test_path.read_text()
                if test_path.exists()
                else header.format(title=f"tests for {module}")
            )
            test_path.write_text(
                prev + "\n".join(_snippet(language, f"test_{module}", n, self.rnd)) + "\n"
            )

    # -- the history ------------------------------------------------------------------------

    def plan(self) -> list[tuple]:
        items = []
        for i, event in enumerate(self.spec.get("events", [])):
            items.append((_date(event["date"]), 0, i, "event", event))
        for w, work in enumerate(self.spec.get("work", [])):
            start, end = _date(work["from"]), _date(work["to"])
            names = list(work["authors"])
            weights = [work["authors"][a] for a in names]
            # Exact proportions (rounded), shuffled: a fixed seed, not luck, sets the shares.
            authors = []
            for a, wgt in zip(names, weights, strict=True):
                authors += [a] * round(work["commits"] * wgt / sum(weights))
            self.rnd.shuffle(authors)
            span = (end - start).days
            for k, author in enumerate(authors):
                day = start + dt.timedelta(days=round(k * span / max(1, len(authors) - 1)))
                items.append((day, 1, w * 1000 + k, "work", {**work, "author": author}))
        return sorted(items, key=lambda t: (t[0], t[1], t[2]))

    def build(self) -> None:
        self.git("init", "-q", "-b", "main")
        for day, _order, _i, kind, item in self.plan():
            if kind == "event":
                self.event(day, item)
            else:
                self.work(day, item)

    def event(self, day: dt.date, event: dict) -> None:
        for rel in event.get("add", []):
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.tree / rel, target)
        for rel, text in (event.get("config") or {}).items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        for component, n in (event.get("code") or {}).items():
            language = "php" if component != "dispatch-api" else "python"
            language = "shell" if component == "cdc" else language
            for _ in range(n):
                self.code(component, language, event["author"], tests=False)
        for i in range(event.get("vendor", 0)):
            lib = ["monolog/monolog", "guzzlehttp/guzzle", "predis/predis", "doctrine/dbal"][i % 4]
            target = self.path / "dispatch-classic" / "vendor" / lib / "src" / f"File{i}.php"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("<?php\n" + "".join(f"// third-party line {j}\n" for j in range(60)))
        for folder in event.get("remove", []):
            self.git("rm", "-r", "-q", folder)
        for rel, text in (event.get("force") or {}).items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.git("add", "-f", rel)
        self.commit(event["author"], _when(day), event["message"])

    def work(self, day: dt.date, work: dict) -> None:
        author = work["author"]
        tests = self.rnd.random() < 0.45
        if self.rnd.random() < work.get("branch", 0):
            self.counter += 1
            branch = f"feature/{work['component']}-{self.counter}"
            self.git("checkout", "-q", "-b", branch)
            self.code(work["component"], work["language"], author, tests)
            self.commit(author, _when(day, 0), f"{work['component']}: change {self.counter}")
            self.git("checkout", "-q", "main")
            self.git("merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch,
                     author=author, when=_when(day, 90))  # fmt: skip
            self.git("branch", "-q", "-d", branch)
        else:
            self.code(work["component"], work["language"], author, tests)
            self.commit(author, _when(day, 30), f"{work['component']}: change {self.counter}")


def _comment(language: str) -> str:
    return "//" if language == "php" else "#"


def _snippet(language: str, module: str, n: int, rnd: random.Random) -> list[str]:
    size = rnd.randint(3, 9)
    if language == "php":
        body = [f"    $step{j} = $input['{module.lower()}_{j}'] ?? null;" for j in range(size)]
        return [f"function {module.lower()}_{n}(array $input) {{", *body, "    return $input;", "}"]
    if language == "python":
        body = [f"    value_{j} = payload.get('{module}_{j}')" for j in range(size)]
        return [f"def {module}_{n}(payload: dict) -> dict:", *body, "    return payload", ""]
    if language == "shell":
        return [f"step_{n}() {{", *[f"  echo 'step {n}.{j}'" for j in range(size)], "}"]
    return [f"# change {n}: {'tag ' * (j % 3)}resource note {j}" for j in range(size)]


def _date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def build(name: str, out: Path) -> str:
    """Build repository `name` at `out` (kept as is when already identical); returns HEAD."""
    source = SOURCES / name
    spec = yaml.safe_load((source / "history.yaml").read_text())
    out = out.resolve()
    with tempfile.TemporaryDirectory(
        prefix="sample-repo-", dir=out.parent if out.parent.exists() else None
    ) as tmp:
        path = Path(tmp) / name
        path.mkdir()
        builder = Builder(path, spec, source / "tree")
        builder.build()
        head = builder.git("rev-parse", "HEAD")
        if (out / ".git").exists():
            existing = subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=out, capture_output=True, text=True
            ).stdout.strip()
            if existing == head:
                return head
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), out)
    return head


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="haulwise-dispatch")
    parser.add_argument("--out", type=Path, default=Path("build/sample-repos/haulwise-dispatch"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    head = build(args.name, args.out)
    print(f"{args.out} at {head[:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

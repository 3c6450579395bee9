"""Real git repositories for tests: commits by named authors at fixed dates, branches, merges,
renames and deletions, made with the git command line (as a team would make them)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

DAY = 86400
# 1 July 2026, 12:00 UTC: tests place commits relative to it.
T0 = 1_782_907_200


class GitRepo:
    """A working repository under `path`; every commit has an explicit author and date."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, env: dict | None = None) -> str:
        full = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.path), **(env or {})}
        result = subprocess.run(
            ["git", *args], cwd=self.path, env=full, check=True, capture_output=True, text=True
        )
        return result.stdout.strip()

    def write(self, rel: str, text: str) -> None:
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def append(self, rel: str, lines: list[str]) -> None:
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        old = path.read_text() if path.exists() else ""
        path.write_text(old + "".join(f"{line}\n" for line in lines))

    def _env(self, author: str, email: str, when: int) -> dict:
        date = f"{when} +0000"
        return {
            "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": email, "GIT_COMMITTER_DATE": date,
        }  # fmt: skip

    def commit(self, author: str, when: int, message: str = "change", email: str = "") -> str:
        email = email or author.lower().replace(" ", ".") + "@example.com"
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, env=self._env(author, email, when))
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str, author: str, when: int) -> str:
        email = author.lower().replace(" ", ".") + "@example.com"
        self.git("merge", "-q", "--no-ff", "-m", f"Merge {branch}", branch,
                 env=self._env(author, email, when))  # fmt: skip
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

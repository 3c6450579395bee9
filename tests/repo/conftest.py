"""A team repository built with real git: three authors, a rename, a merge, a deleted and a stale
component, vendored, ignored, binary and generated files, secrets, and a stack with manifests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.repo.gitrepo import DAY, T0, GitRepo

HISTORY_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8hV3kWqT"  # committed, then removed
DOC_SECRET = "AKIAZ3MHQ7TW4XKD2PLN"  # in an ADR at HEAD: must be redacted
PRIYA, TOM, SAM = "Priya Nair", "Tom Okoye", "Sam Lee"


def lines(tag: str, n: int) -> list[str]:
    return [f"{tag}_{i} = {i}  # {tag}" for i in range(n)]


def build_team_repo(path: Path) -> GitRepo:
    r = GitRepo(path)
    # 1. T0-500d, Priya: the first code (outside the 12-month window).
    r.write("README.md", "# Acme platform\n\nThe platform behind Acme's invoicing.\n")
    r.write(".gitignore", "*.log\nbuild/\n")
    r.append("payments/ledger.py", lines("ledger_a", 10))
    r.append("old-tools/report.py", lines("report_a", 5))
    r.append("legacy/sync.py", lines("sync_a", 8))
    r.write("config/settings.py", f'aws_secret_access_key = "{HISTORY_SECRET}"\n')
    r.commit(PRIYA, T0 - 500 * DAY, "first import")
    # 2. T0-450d, Tom: the last change to old-tools/ (stale by the end).
    r.append("old-tools/report.py", lines("report_b", 3))
    r.commit(TOM, T0 - 450 * DAY, "report tweaks")
    # 3. T0-300d, Priya: payments/ becomes billing/ (a rename), the secret leaves the tree.
    r.git("mv", "payments", "billing")
    r.append("billing/ledger.py", lines("ledger_b", 5))
    r.git("rm", "-q", "config/settings.py")
    r.commit(PRIYA, T0 - 300 * DAY, "payments -> billing")
    # 4-6. billing/ and api/ work inside the window.
    r.append("billing/ledger.py", lines("ledger_c", 4))
    r.commit(PRIYA, T0 - 250 * DAY)
    r.append("billing/invoice.py", lines("invoice_a", 6))
    r.commit(TOM, T0 - 200 * DAY)
    r.append("billing/ledger.py", lines("ledger_d", 3))
    r.append("api/app.py", lines("app_a", 10))
    r.commit(PRIYA, T0 - 150 * DAY, "billing and api together")
    # 7. A feature branch by Sam (code and a test), merged by Tom with --no-ff.
    r.git("checkout", "-q", "-b", "feature/api")
    r.append("api/app.py", lines("app_b", 5))
    r.append("api/tests/test_app.py", lines("test_a", 4))
    r.commit(SAM, T0 - 100 * DAY, "api feature with a test")
    r.git("checkout", "-q", "main")
    r.merge("feature/api", TOM, T0 - 99 * DAY)
    # 8. Tom deletes legacy/.
    r.git("rm", "-r", "-q", "legacy")
    r.commit(TOM, T0 - 60 * DAY, "remove legacy sync")
    # 9. Tom: a small api change.
    r.append("api/app.py", lines("app_c", 2))
    r.commit(TOM, T0 - 30 * DAY)
    # 10. T0, Sam: the stack (manifests, CI, deployment) and the docs.
    _stack(r)
    r.commit(SAM, T0, "stack, CI and docs")
    return r


def _stack(r: GitRepo) -> None:
    r.write("Procfile", "web: gunicorn acme.wsgi\nworker: celery -A acme worker\n")
    r.write(
        "api/pyproject.toml",
        '[project]\nname = "api"\nrequires-python = ">=3.12"\n'
        'dependencies = ["fastapi==0.115.6", "sqlalchemy>=2.0"]\n\n'
        '[project.optional-dependencies]\ndev = ["pytest==8.3.4"]\n',
    )
    r.write("api/requirements-dev.txt", "ruff==0.8.0  # lint\n-r requirements.txt\n")
    package = {
        "name": "web",
        "dependencies": {"react": "^18.3.1", "react-dom": "^18.3.1"},
        "devDependencies": {"typescript": "^5.6.0"},
    }
    r.write("frontend/package.json", json.dumps(package, indent=2))
    r.write("frontend/yarn.lock", "# yarn lockfile v1\n")
    r.write("frontend/src/App.tsx", "export const App = () => <div>Acme</div>;\n" * 20)
    r.write("frontend/package-lock.json", '{"lockfileVersion": 3}\n')  # generated
    r.write(
        "worker/go.mod",
        "module acme/worker\n\ngo 1.22\n\nrequire (\n\tgithub.com/redis/go-redis/v9 v9.5.1\n\tgolang.org/x/sync v0.7.0 // indirect\n)\n",
    )
    r.write("worker/main.go", "package main\n\nfunc main() {}\n" * 10)
    r.write(
        "mobile-api/Gemfile",
        "source 'https://rubygems.org'\nruby '3.3.0'\ngem 'rails', '~> 7.1'\ngroup :test do\n  gem 'rspec-rails'\nend\n",
    )
    r.write(
        "rust-core/Cargo.toml",
        '[package]\nname = "core"\n\n[dependencies]\nserde = "1.0"\ntokio = { version = "1.38", features = ["full"] }\n',
    )
    r.write(
        "jvm/pom.xml",
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><dependencies><dependency>'
        "<groupId>org.postgresql</groupId><artifactId>postgresql</artifactId><version>42.7.3</version>"
        "</dependency></dependencies></project>",
    )
    r.write(
        "jvm/build.gradle",
        "dependencies {\n    implementation 'com.google.guava:guava:33.2.0-jre'\n    testImplementation 'junit:junit:4.13.2'\n}\n",
    )
    r.write(
        "docker-compose.yml",
        "services:\n  db:\n    image: postgres:15\n    environment:\n      POSTGRES_PASSWORD: hunter2hunter2\n"
        "  cache:\n    image: redis:7-alpine\n  api:\n    build: ./api\n",
    )
    r.write(
        "api/Dockerfile",
        "FROM python:3.12-slim AS build\nRUN pip wheel .\nFROM build\nCMD uvicorn\n",
    )
    r.write(
        "infra/main.tf",
        'terraform {\n  required_providers {\n    heroku = {\n      source  = "heroku/heroku"\n'
        '      version = "~> 5.2"\n    }\n  }\n}\n\nresource "heroku_app" "acme" {\n  name = "acme"\n}\n\n'
        'resource "aws_s3_bucket" "exports" {\n  count  = 2\n  bucket = "acme-exports"\n}\n',
    )
    r.write(
        ".github/workflows/ci.yml",
        "on:\n  push:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n      - name: Tests\n        run: pytest -q\n",
    )
    r.write(
        ".gitlab-ci.yml",
        "stages: [test]\nunit:\n  stage: test\n  script:\n    - make test\n  rules:\n"
        '    - if: $CI_PIPELINE_SOURCE == "merge_request_event"\n',
    )
    r.write(
        ".circleci/config.yml",
        "version: 2.1\njobs:\n  build:\n    steps:\n      - checkout\n      - run: make build\nworkflows:\n  main:\n    jobs: [build]\n",
    )
    r.write("vendor/acme-sdk/client.py", "print('third party')\n" * 400)
    r.write(
        "docs/adr/0001-monolith.md",
        f"# ADR 0001: Stay a modular monolith\n\nWe stay a monolith on Heroku. The deploy key "
        f"{DOC_SECRET} must move to the vault.\n",
    )
    (r.path / "docs" / "diagram.png").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00" + bytes(range(256)) * 4
    )
    r.write("logs/app.log", "a log line\n")
    r.git("add", "-f", "logs/app.log")  # tracked, but .gitignore says it should not be


@pytest.fixture(scope="session")
def team_repo_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("team-repo") / "acme-platform"
    build_team_repo(path)
    return path


@pytest.fixture
def team_repo(team_repo_template, tmp_path) -> GitRepo:
    """A private copy of the team repository (tests may add commits to it)."""
    path = tmp_path / "acme-platform"
    shutil.copytree(team_repo_template, path, symlinks=True)
    repo = GitRepo.__new__(GitRepo)
    repo.path = path
    return repo

"""A full disk during a re-ingest (issue 25, attack 2), on a real tmpfs.

The data dir lives on a 30 MB tmpfs; the corpus is indexed, then the tmpfs is filled to a few
kilobytes and every document changes (and more are added). The ingest must stop with one line
that says the disk is full, reads (`status`, `ask`) must keep answering from what was indexed,
and once space is back the next ingest must complete with nothing lost and nothing duplicated.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.server.test_damaged_files import _said, cli

pytestmark = pytest.mark.slow


def _write(docs: Path, version: str, n: int) -> None:
    docs.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (docs / f"guide-{i:02d}.md").write_text(
            f"# Guide {i}\n\n"
            + "".join(
                f"## Part {s}\n\nTeam {i} keeps rule {s} for area {i * s} in {version}.\n\n"
                for s in range(8)
            )
        )


@pytest.fixture
def tmpfs(tmp_path) -> Path:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=30m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode()[-200:]}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(mount: Path, leave: int) -> Path:
    filler = mount / "filler"
    free = shutil.disk_usage(mount).free
    with open(filler, "wb") as fh:
        os.posix_fallocate(fh.fileno(), 0, max(0, free - leave))
    return filler


def test_a_full_disk_stops_the_ingest_in_one_line_and_loses_nothing(tmp_path, tmpfs):
    from advisor.core.principal import Principal
    from advisor.core.settings import Settings
    from advisor.service.facade import Advisor
    from tests.ingest.test_pipeline import _assert_store_matches_manifest

    docs, data_dir = tmp_path / "docs", tmpfs / "data"
    _write(docs, "v1", 30)
    assert cli(data_dir, "ingest", str(docs), "--client", "acme").returncode == 0
    before = cli(data_dir, "ask", "Which rule does team 4 keep for area 8?", "--client", "acme")
    assert before.returncode == 0

    _write(docs, "v2", 90)  # every document changes, and 60 are added
    filler = _fill(tmpfs, leave=150_000)
    out = cli(data_dir, "ingest", str(docs), "--client", "acme")
    said = _said(out)
    assert out.returncode == 2, said
    errors = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, out.stderr
    assert errors[0].startswith(f"error: the disk holding {data_dir} is full")
    assert "free some space" in errors[0]

    # Reads keep working, from what was indexed.
    status = cli(data_dir, "status", "--json")
    assert status.returncode == 0, _said(status)
    assert cli(data_dir, "ask", "Which rule does team 4 keep?", "--client", "acme").returncode == 0

    filler.unlink()
    out = cli(data_dir, "ingest", str(docs), "--client", "acme")
    assert out.returncode == 0, _said(out)
    settings = Settings(data_dir=data_dir)
    advisor = Advisor(settings)
    _assert_store_matches_manifest(advisor.store, settings)
    assert advisor.status(Principal.local())["documents"] == 90
    chunks = advisor.store.chunks_in(["acme"])
    assert len(chunks) == len({c.id for c in chunks}) == 90 * 8 // 2  # two parts a chunk
    assert not any(" in v1." in c.text for c in chunks)

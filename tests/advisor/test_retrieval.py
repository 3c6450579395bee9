"""Hybrid retrieval on a corpus with one long document: diversity and neighbouring chunks."""

from __future__ import annotations

import pytest

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor

LOCAL = Principal.local()

TOPICS = ["budget", "hiring", "security", "deploys", "incidents", "vendors"]


def section(topic: str, n: int) -> str:
    sentence = f"The {topic} policy rule number {n} explains how the team handles {topic} work. "
    return f"## {topic.title()} policy\n\n" + sentence * 14 + "\n\n"


@pytest.fixture(scope="module")
def advisor(tmp_path_factory, embeddings):
    root = tmp_path_factory.mktemp("corpus")
    (root / "handbook.md").write_text(
        "# Handbook\n\n" + "".join(section(t, i) for i, t in enumerate(TOPICS)), encoding="utf-8"
    )
    for name in ("alpha", "beta", "gamma"):
        (root / f"{name}.md").write_text(
            f"# {name.title()} note\n\nA short note on {name} and our security policy review.\n",
            encoding="utf-8",
        )
    advisor = Advisor(Settings(data_dir=tmp_path_factory.mktemp("data")), embeddings=embeddings)
    advisor.ingest(LOCAL, [root])
    return advisor


def test_one_document_cannot_fill_the_top_list(advisor):
    passages = advisor.retrieve(LOCAL, "security policy", k=5)
    sources = [p.source for p in passages]
    assert sources.count("handbook.md") <= 2
    assert len(set(sources)) >= 3


def test_neighbours_are_the_adjacent_chunks_in_document_order(advisor):
    top = advisor.retrieve(LOCAL, "How does the team handle security work?", k=5)
    assert top[0].source == "handbook.md" and "security" in top[0].text
    window, ranks = advisor.retriever.with_neighbours(top, around=1)
    handbook = [p for p in window if p.source == "handbook.md" and ranks[window.index(p)] == 0]
    indexes = [p.chunk_index for p in handbook]
    assert indexes == list(range(top[0].chunk_index - 1, top[0].chunk_index + 2))
    assert [p.score for p in handbook] == [0.0, top[0].score, 0.0]  # neighbours were not retrieved
    assert len({p.id for p in window}) == len(window)
    assert ranks == sorted(ranks)

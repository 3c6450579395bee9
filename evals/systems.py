"""The systems an eval can run: ours (the real Advisor path) behind one small protocol."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from advisor.core.models import Answer
from advisor.core.principal import Principal
from advisor.core.settings import Settings
from evals.corpus import CHECKLIST_NAMES, eval_data_dir, ingest_groups, with_data_dir

# The eval runs as a CTO: it may read every client, like the person who runs it.
EVALUATOR = Principal(user="eval", role="cto")


class System(Protocol):
    """Anything that can index a corpus and answer a question under a client."""

    name: str
    cites: bool  # False: citation metrics are not defined for this system
    index_dir: Path
    report_notes: list[str]  # caveats printed under the report's notes

    def prepare(self) -> None:
        """Build or refresh the index of the corpus (cheap when nothing changed)."""

    def ask(self, question: str, client: str | None, history: Sequence[dict[str, str]]) -> Answer:
        """The answer, with `passages` in rank order."""


class OurSystem:
    """The product itself: incremental ingestion into a per-corpus cached index, then `ask`."""

    name = "ours"
    cites = True
    report_notes: list[str] = []

    def __init__(self, settings: Settings, corpus: Path, embeddings=None) -> None:
        from advisor.service.facade import Advisor

        self.corpus = corpus.resolve()
        self.index_dir = eval_data_dir(settings, self.corpus)
        self.settings = with_data_dir(settings, self.index_dir)
        # The corpus's own practice checklist (configuration next to its playbooks), if any.
        checklists = [self.corpus / n for n in CHECKLIST_NAMES if (self.corpus / n).is_file()]
        if checklists:
            self.settings = self.settings.model_copy(update={"checklist": checklists[0]})
        self.advisor = Advisor(self.settings, embeddings=embeddings)

    def prepare(self) -> None:
        """Ingest the playbooks, then each client's folder under its client name."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        for paths, client in ingest_groups(self.corpus):
            self.advisor.ingest(EVALUATOR, paths, client=client)
        # Load the lazy parts (retriever, lexical index) now, so the first timed question is warm.
        self.advisor.retrieve(EVALUATOR, "warm-up", k=1)
        self.advisor.warm_up()  # and spaCy's pipelines, which the first answer would load

    def ask(self, question: str, client: str | None, history: Sequence[dict[str, str]]) -> Answer:
        """The real retrieval and answering path."""
        return self.advisor.ask(EVALUATOR, question, client=client, history=list(history))

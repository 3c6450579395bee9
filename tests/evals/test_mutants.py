"""Mutation testing of the gates: the table's verdict, the faults, and the seam that undoes them."""

from advisor.answering import answer as answer_module
from advisor.core import principal
from evals import mutants
from evals.mutants import MUTANTS, Table


def table(caught, ran=None, metrics=("mrr@10", "scope_leaks")):
    names = list(caught)
    return Table(names, list(metrics), caught, ran or {m: set(metrics) for m in names})


def test_the_table_fails_on_an_uncaught_mutant_and_on_a_gate_that_catches_nothing():
    good = table({"a": {"mrr@10": ["dev"]}, "b": {"scope_leaks": ["sample"]}})
    assert good.problems() == []
    survivor = table({"a": {"mrr@10": ["dev"], "scope_leaks": ["sample"]}, "b": {}})
    assert survivor.problems() == ["mutant b was caught by no gate"]
    idle = table({"a": {"mrr@10": ["dev"]}, "b": {"mrr@10": ["dev-extra"]}})
    assert idle.problems() == ["gated metric scope_leaks caught no mutant"]
    rendered = survivor.render()
    assert "| a | X dev | X sample |" in rendered and "| b | . | . |" in rendered


def test_every_required_fault_is_a_mutant_and_each_names_the_datasets_it_breaks():
    names = {m.name for m in MUTANTS}
    assert {
        "never-abstain", "always-abstain", "ranking-reversed", "ranking-shuffled",
        "citations-stripped", "citations-renumbered", "scope-widened", "half-the-sentences",
        "memo-options-emptied", "verdicts-missing",
    } <= names  # fmt: skip
    known = {"sample", "dev-questions", "dev-extra", "llm-replay", "memos", "memos-dev",
             "assessment"}  # fmt: skip
    assert all(m.datasets and set(m.datasets) <= known for m in MUTANTS)


def test_the_faults_rewrite_text_as_described():
    text = "Start small [1]. Hire seniors [2]. Pay on-call [3].\n\nKeep CI fast. [4]"
    assert mutants.renumber_citations(text).startswith("Start small [2]. Hire seniors [3].")
    assert "[" not in mutants.strip_citations(text)
    half = mutants.drop_half_the_sentences(text)
    assert "Hire seniors" not in half and "Start small [1]." in half and "Pay on-call [3]." in half
    assert half.endswith("Keep CI fast. [4]"), "a marker standing alone is kept"


def test_the_seam_installs_a_fault_for_the_block_only():
    weak, scopes = answer_module.evidence_is_weak, principal.scopes_for
    with mutants.always_abstain():
        assert answer_module.evidence_is_weak(None) is True
    assert answer_module.evidence_is_weak is weak
    import advisor.retrieval.hybrid as hybrid

    with mutants.scope_widened():
        assert hybrid.scopes_for("ledgerly") == principal.scopes_for(None)
        assert {"haulwise", "ledgerly"} <= set(hybrid.scopes_for(None))
    assert principal.scopes_for is scopes and hybrid.scopes_for is scopes
    assert hybrid.scopes_for("ledgerly") == ["playbook", "ledgerly"]
    import sys

    # A module imported while the fault is installed binds it; it is restored all the same.
    with mutants.replaced_everywhere(scopes, lambda client: ["everything"]):
        fresh = type(sys)("advisor.fresh_module")
        fresh.scopes_for = principal.scopes_for
        sys.modules["advisor.fresh_module"] = fresh
    try:
        assert fresh.scopes_for is scopes
    finally:
        del sys.modules["advisor.fresh_module"]

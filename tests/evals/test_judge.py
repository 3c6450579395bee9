"""The faithfulness judge: prompt rendering, verdict parsing and the on-disk cache."""

from evals.judge import FaithfulnessJudge, parse_verdict, render_prompt


class ScriptedChat:
    """A chat endpoint stand-in that replies with a fixed text and counts calls."""

    def __init__(self, reply: str):
        self.reply = reply
        self.messages = []

    def complete(self, messages):
        self.messages.append(list(messages))
        return self.reply


def test_the_prompt_file_renders_sources_and_answer():
    prompt = render_prompt("Use {braces} [1].", [(1, "Pick Postgres."), (3, "Hire slowly.")])
    assert "SOURCES:\n[1] Pick Postgres.\n\n[3] Hire slowly.\n" in prompt
    assert prompt.rstrip().endswith("ANSWER:\nUse {braces} [1].")
    assert '{"claims": []}' in prompt  # the template's literal braces survive rendering


def test_parse_verdict():
    reply = (
        'Sure: {"claims": [{"claim": "a", "supported": true}, {"claim": "b", "supported": false}]}'
    )
    assert parse_verdict(reply) == 0.5
    assert parse_verdict('{"claims": []}') is None
    assert parse_verdict("no json here") is None
    assert parse_verdict('{"claims": "yes"}') is None


def test_replies_are_cached_so_a_rerun_costs_nothing(tmp_path):
    reply = '{"claims": [{"claim": "a", "supported": true}]}'
    chat = ScriptedChat(reply)
    judge = FaithfulnessJudge(chat, "model-x", tmp_path / "cache")
    assert judge.score("Use Postgres [1].", [(1, "Pick Postgres.")]) == 1.0
    assert judge.calls == 1

    offline = ScriptedChat("this reply must not be used")
    rerun = FaithfulnessJudge(offline, "model-x", tmp_path / "cache")
    assert rerun.score("Use Postgres [1].", [(1, "Pick Postgres.")]) == 1.0
    assert offline.messages == [] and rerun.calls == 0

    other_model = FaithfulnessJudge(ScriptedChat(reply), "model-y", tmp_path / "cache")
    other_model.score("Use Postgres [1].", [(1, "Pick Postgres.")])
    assert other_model.calls == 1  # the key includes the judge model


def test_nothing_to_judge_makes_no_call(tmp_path):
    chat = ScriptedChat("{}")
    judge = FaithfulnessJudge(chat, "m", tmp_path)
    assert judge.score("An answer.", []) is None
    assert judge.score("  ", [(1, "x")]) is None
    assert chat.messages == []

"""The CTO's workflows in the real app script: upload, feedback, memo download."""

from __future__ import annotations

import io
import re

import docx

from advisor.core.settings import Settings
from advisor.memo.draft import SECTIONS
from advisor.service.feedback import FeedbackStore, write_eval_cases
from tests.app.helpers import ask, texts

NEW_DOC = b"""# Laptop policy

## Disk encryption
Every Acme laptop must have full-disk encryption turned on before it joins the Orchid-12 VPN.
"""


def test_upload_indexes_files_into_the_selected_client_and_shows_them(app, app_data_dir):
    app.selectbox(key="client").set_value("acme").run()
    before = int(next(m.value for m in app.sidebar.metric if m.label == "Documents"))
    assert app.selectbox(key="target-acme").value == "acme"
    app.file_uploader[0].set_value(
        [("laptop-policy.md", NEW_DOC, "text/markdown"), ("empty.md", b"", "text/markdown")]
    ).run()  # uploading reruns the page, as in a browser
    app.button(key="index").click().run()
    assert not app.exception, app.exception

    results = texts(app.sidebar.markdown)
    assert any("laptop-policy.md: indexed" in r for r in results), results
    assert any("empty.md: refused" in r for r in results), results
    assert (app_data_dir / "uploads" / "acme" / "laptop-policy.md").read_bytes() == NEW_DOC
    assert not (app_data_dir / "uploads" / "acme" / "empty.md").exists()

    after = int(next(m.value for m in app.sidebar.metric if m.label == "Documents"))
    assert after == before + 1
    listed = " ".join(texts(app.sidebar.markdown))
    assert "laptop-policy.md" in listed  # in "Documents in scope"
    ask(app, "What must a laptop have before it joins the VPN?")
    assert "Orchid-12" in app.chat_message[-1].markdown[0].value


def test_an_upload_the_pipeline_cannot_index_leaves_no_orphan_file(app, app_data_dir):
    app.selectbox(key="target-playbook").set_value("New client…").run()
    app.text_input[0].input("Zeta").run()
    app.file_uploader[0].set_value([("deck.pdf", b"%PDF-1.7 truncated", "application/pdf")]).run()
    app.button(key="index").click().run()
    assert not app.exception, app.exception

    results = " ".join(texts(app.sidebar.markdown))
    assert "deck.pdf: failed" in results or "deck.pdf: skipped" in results, results
    assert not (app_data_dir / "uploads" / "zeta").exists(), "an unindexed copy stayed on disk"
    assert "zeta" not in app.selectbox(key="client").options


def test_a_client_name_the_rule_refuses_writes_nothing(app, app_data_dir):
    app.selectbox(key="target-playbook").set_value("New client…").run()
    app.text_input[0].input("../globex").run()
    app.file_uploader[0].set_value([("plan.md", b"# Plan\n", "text/markdown")]).run()
    app.button(key="index").click().run()
    assert not app.exception, app.exception

    assert "invalid client name" in app.sidebar.error[0].value
    uploads = app_data_dir / "uploads"
    assert not any(p.name == "plan.md" for p in uploads.rglob("*")) if uploads.exists() else True


def test_feedback_is_stored_with_its_comment_and_survives_reruns(app, app_data_dir, embeddings):
    ask(app, "How big should a pull request be?")
    app.feedback[0].set_value(0).run()  # thumbs down
    store = FeedbackStore(Settings(data_dir=app_data_dir))
    msg_id = app.feedback[0].key.removeprefix("fb-")  # the chat message; the rating is keyed
    ((user, answer_id), record), *rest = store.latest().items()  # by the service's answer id
    assert not rest and user == "local" and answer_id != msg_id
    assert record.rating == "down" and record.question == "How big should a pull request be?"
    assert record.sources and record.sources[0] == "code-review.md"

    comment = "Should also cite playbooks/on-call.md"
    app.text_input(key=f"fbc-{msg_id}").input(comment).run()
    assert next(r for (_, a), r in store.latest().items() if a == answer_id).comment == comment
    app.run()  # an unrelated rerun keeps the rating on screen
    assert app.feedback[0].value == 0
    assert "Thanks: your feedback is saved." in texts(app.caption)

    lines, _ = write_eval_cases(Settings(data_dir=app_data_dir), embeddings)
    assert any(comment in line and "playbooks/on-call.md" in line for line in lines)


def test_memo_from_the_conversation_downloads_as_markdown_and_docx(app):
    ask(app, "How big should a pull request be?")
    app.session_state["view"] = "Recommendation memo"
    app.run()
    assert not app.chat_input, "the memo view has no chat box"
    assert "(2 messages)" in app.checkbox[0].label  # the open chat's question and answer
    app.text_input(key="memo-topic-playbook").input("Code review practice for a small team").run()
    app.button(key="draft-memo").click().run()
    assert not app.exception and not app.error, (app.exception, app.error)

    labels = {b.key: b.label for b in app.download_button}
    assert labels == {"memo-md": "Markdown", "memo-docx": "Word (.docx)"}
    _, files = next(iter(app.session_state["_kept_memo"].values()))  # the bytes served
    markdown = files["md"]
    for heading in [*SECTIONS, "Sources"]:
        assert f"\n## {heading}\n" in markdown
    assert "Offline draft" in markdown
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", markdown.split("## Sources")[0])}
    listed = {int(n) for n in re.findall(r"^- \[(\d+)\]", markdown, flags=re.M)}
    assert cited and cited == listed

    document = docx.Document(io.BytesIO(files["docx"]))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [*SECTIONS, "Sources"]


def test_the_memo_tab_resets_per_client_and_keeps_each_clients_last_memo(app, app_data_dir):
    app.session_state["view"] = "Recommendation memo"
    app.selectbox(key="client").set_value("acme").run()
    app.text_input(key="memo-topic-acme").input("Should acme hire an SRE or fix on-call first?")
    app.button(key="draft-memo").click().run()
    assert app.download_button and "Client: acme" in " ".join(texts(app.markdown))

    app.selectbox(key="client").set_value("globex").run()
    assert not app.download_button, "another client's memo is never shown"
    assert app.text_input(key="memo-topic-globex").value == "", "the topic starts empty"
    assert "acme" not in " ".join(texts(app.main.markdown)).casefold()

    app.selectbox(key="client").set_value("acme").run()
    assert app.download_button, "acme's last memo is kept in its history"
    assert "hire an SRE" in " ".join(texts(app.markdown))

    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    again = AppTest.from_file(str(APP), default_timeout=90)  # a reload: the memo is still there
    again.query_params["client"] = "acme"
    again.session_state["view"] = "Recommendation memo"
    again.run()
    assert {b.key for b in again.download_button} == {"memo-md", "memo-docx"}

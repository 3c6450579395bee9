"""The Assessment tab: one client's verdicts, a coverage chart, evidence, and downloads."""

from __future__ import annotations

from tests.advisor.assessment.test_assess import CHECKLIST
from tests.advisor.corpus import GLOBEX_FACT
from tests.app.helpers import texts


def test_the_assessment_tab_shows_cited_verdicts_for_the_selected_client(
    app, tmp_path, monkeypatch
):
    path = tmp_path / "checklist.yaml"
    path.write_text(CHECKLIST)
    monkeypatch.setenv("ADVISOR_CHECKLIST", str(path))
    app.session_state["view"] = "Assessment"
    app.run()
    assert any("choose a client" in t for t in texts(app.info)), "needs a client first"

    app.selectbox(key="client").set_value("acme").run()
    app.button(key="assess").click().run()
    assert not app.exception and not app.error, (app.exception, app.error)
    metrics = {m.label: m.value for m in app.metric if m.label in ("Contradicted", "Missing")}
    assert metrics == {"Contradicted": "1", "Missing": "1"}
    assert len(app.get("vega_lite_chart")) == 1
    labels = [e.label for e in app.expander]
    assert any(label.startswith("CONTRADICTED · The on-call rotation") for label in labels)
    page = " ".join(texts(app.markdown, app.caption))
    assert "Client: acme" in page and "Playbook" in page
    assert GLOBEX_FACT not in page
    assert {b.key for b in app.download_button} >= {"assess-md", "assess-docx", "assess-csv"}

    app.selectbox(key="client").set_value("globex").run()
    assert not app.download_button, "another client's assessment is never shown"

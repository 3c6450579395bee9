"""The Assessment tab: a client's documents against the CTO's practice checklist (the last
assessment of each client is kept in its history, like its memo)."""

from __future__ import annotations

import streamlit as st

from advisor.answering.answer import scope_label
from advisor.assessment.assess import Assessment
from advisor.memo.model import location
from interfaces.web.common import download_row, errors_shown, keep, kept
from interfaces.web.resources import Viewer
from interfaces.web.text import inert, prose

VERDICT_COLORS = {
    "evidenced": "#2e7d32",
    "partial": "#f9a825",
    "missing": "#9e9e9e",
    "contradicted": "#c62828",
}
VERDICT_BADGES = {
    "evidenced": ":green-badge[evidenced]",
    "partial": ":orange-badge[partial]",
    "missing": ":gray-badge[missing]",
    "contradicted": ":red-badge[contradicted]",
}


def coverage_chart(assessment):
    """Practices per area, stacked by verdict (Altair, which Streamlit ships)."""
    import altair as alt
    import pandas as pd

    rows = [
        {"area": row["area"], "verdict": verdict, "practices": row[verdict]}
        for row in assessment.coverage()
        for verdict in VERDICT_COLORS
        if row[verdict]
    ]
    scale = alt.Scale(domain=list(VERDICT_COLORS), range=list(VERDICT_COLORS.values()))
    return (
        alt.Chart(pd.DataFrame(rows))
        .mark_bar()
        .encode(
            y=alt.Y("area:N", title=None, sort=None),
            x=alt.X("practices:Q", title="Practices", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("verdict:N", scale=scale, legend=alt.Legend(orient="bottom")),
            tooltip=["area", "verdict", "practices"],
        )
    )


def files_of(assessment: Assessment) -> dict:
    return {
        "md": assessment.to_markdown(),
        "docx": assessment.to_docx(),
        "csv": assessment.to_csv(),
    }


def assessment_panel(viewer: Viewer, client: str | None) -> None:
    if not client:
        st.info(
            "An assessment checks one client's documents against your practice checklist: "
            "choose a client in the sidebar.",
            icon=":material/fact_check:",
        )
        return
    st.markdown(
        f"Which of your checklist's practices **{inert(client)}** already has, which are "
        "missing, and where its own documents disagree. Every verdict cites the playbook and "
        "the client's evidence."
    )
    if st.button("Run assessment", type="primary", icon=":material/fact_check:", key="assess"):
        with (
            st.spinner("Reading the client's documents against the checklist…"),
            errors_shown("Assessment"),
        ):
            keep(viewer, client, "assessment", viewer.advisor.assess(viewer.principal, client))
    found = kept(viewer, client, "assessment", Assessment, files_of)
    if found is None:
        return
    assessment, files = found
    if assessment.warning:
        st.warning(prose(assessment.warning), icon=":material/warning:")
    counts = {v: sum(1 for x in assessment.verdicts if x.verdict == v) for v in VERDICT_COLORS}
    for col, (verdict, count) in zip(st.columns(4), counts.items(), strict=True):
        col.metric(verdict.capitalize(), count)
    st.altair_chart(coverage_chart(assessment), width="stretch")
    by_n = {c.n: c for c in assessment.citations}
    area = None
    for v in assessment.verdicts:
        if v.area != area:
            area = v.area
            st.subheader(area, divider="gray")
        with st.expander(f"{v.verdict.upper()} · {inert(v.practice)}"):
            st.markdown(f"{VERDICT_BADGES[v.verdict]} {inert(v.reason)}")
            for n in ([v.playbook] if v.playbook else []) + v.evidence:
                c = by_n.get(n)
                if c is None:
                    continue
                st.markdown(
                    f"**[{n}]** {inert(scope_label(c.scope))} · {inert(c.title or c.source)} "
                    f"· {inert(location(c))}"
                )
                st.caption(inert(c.snippet))
    if assessment.conflicts:
        st.subheader("Conflicting sources", divider="red")
        for c in assessment.conflicts:
            st.markdown(f"- {inert(c.describe())}")
    download_row(files, f"assessment-{client}", "assess")

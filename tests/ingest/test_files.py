from pathlib import Path

import pytest

from advisor.core.errors import IngestError
from ingest.files import check_size, discover, kind_from_name, read_text, sniff
from tests.ingest.hostile_corpus import remove_deep_chain


def test_discover_relative_sources_skips_hidden_and_data_dir(tmp_path):
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "a.md").write_text("# A\n")
    (root / "sub" / "b.txt").write_text("b\n")
    (root / ".secret.md").write_text("hidden\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("x\n")
    data_dir = root / "index"
    data_dir.mkdir()
    (data_dir / "manifest.sqlite").write_bytes(b"SQLite")

    walk = discover([root], data_dir=data_dir)

    assert sorted(t.source for t in walk.targets) == ["a.md", "sub/b.txt"]
    assert all(t.root == root.resolve() for t in walk.targets)
    assert walk.folders == [root.resolve()]


def test_discover_single_file_is_relative_to_its_parent(tmp_path):
    file = tmp_path / "notes.md"
    file.write_text("# Notes\n")
    walk = discover([file], data_dir=tmp_path / "data")
    assert [(t.source, t.root) for t in walk.targets] == [("notes.md", tmp_path.resolve())]
    assert walk.folders == []


def test_discover_missing_path_says_what_to_fix(tmp_path):
    with pytest.raises(IngestError, match="no such file or folder"):
        discover([tmp_path / "nope"], data_dir=tmp_path)


@pytest.mark.parametrize(
    "name, kind",
    [
        ("page.html.md.erb", "md"),
        ("README.MD", "md"),
        ("deck.pptx", "pptx"),
        ("index.htm", "html"),
        ("table.csv", "csv"),
        ("config.json", "text"),
        ("page.erb", None),
        ("LICENSE", None),
    ],
)
def test_kind_from_name(name, kind):
    assert kind_from_name(Path(name)) == kind


def _write(tmp_path, name, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_sniff_content_checks(tmp_path):
    assert sniff(_write(tmp_path, "empty.md", b"")).skip == "empty file"
    assert sniff(_write(tmp_path, "blank.txt", b"  \n\n")).skip == "empty file"
    assert "%PDF-" in sniff(_write(tmp_path, "fake.pdf", b"hello, not a pdf")).fail
    assert "not a zip" in sniff(_write(tmp_path, "fake.docx", bytes(range(256)))).fail
    assert sniff(_write(tmp_path, "real.pdf", b"%PDF-1.7\n...")).kind == "pdf"
    assert sniff(_write(tmp_path, "data.json", b'{"a": 1}')).kind == "text"
    assert sniff(_write(tmp_path, "LICENSE", b"MIT License\n")).kind == "text"
    assert "binary" in sniff(_write(tmp_path, "blob.bin", b"\x00\x01\x02" * 10)).skip
    assert ".doc" in sniff(_write(tmp_path, "old.doc", b"\xd0\xcf\x11\xe0 legacy")).skip


def test_read_text_replaces_invalid_utf8_and_says_so(tmp_path):
    path = _write(tmp_path, "bad.txt", b"caf\xe9 and \xff\xfe more text")
    text, note = read_text(path)
    assert "\ufffd" in text and "more text" in text
    assert note and "invalid UTF-8" in note
    assert read_text(_write(tmp_path, "ok.txt", "café".encode()))[1] is None


def test_check_size_reason_names_the_limit():
    assert check_size(Path("x"), 10, 1.0) is None
    reason = check_size(Path("x"), 3 * 1024 * 1024, 1.0)
    assert "1 MB limit" in reason and "ADVISOR_MAX_FILE_MB" in reason


def test_a_symlink_out_of_the_folder_is_skipped_with_a_reason(tmp_path):
    root, other = tmp_path / "client-c", tmp_path / "client-d"
    root.mkdir()
    other.mkdir()
    (other / "secret.md").write_text("# D\n\nclient D's plan\n")
    (root / "plan.md").write_text("# C\n\nclient C's plan\n")
    (root / "leak.md").symlink_to(other / "secret.md")
    (root / "leak-dir").symlink_to(other, target_is_directory=True)
    (root / "again.md").symlink_to(root / "plan.md")

    walk = discover([root], data_dir=tmp_path / "data")

    assert [t.source for t in walk.targets] == ["plan.md"]
    reasons = {t.source: reason for t, reason in walk.skipped}
    assert "outside the ingested folder" in reasons["leak.md"]
    assert "outside the ingested folder" in reasons["leak-dir"]
    assert "indexed once" in reasons["again.md"]


def test_a_thousand_nested_folders_are_walked(tmp_path):
    deep = tmp_path / "root"
    deep.mkdir()
    for _ in range(1050):
        deep = deep / "d"
        deep.mkdir()
    (deep / "bottom.md").write_text("# Bottom\n\ntext\n")

    try:
        walk = discover([tmp_path / "root"], data_dir=tmp_path / "data")
    finally:
        remove_deep_chain(tmp_path / "root" / "d")

    assert [t.path.name for t in walk.targets] == ["bottom.md"]


def test_credential_files_are_recognised_by_name_and_content(tmp_path):
    from ingest.files import credential_name

    for name in ("id_rsa", "server.pem", "terraform.tfstate", ".env", "env.production",
                 "prod.env", ".npmrc", "credentials", "kubeconfig", "tls.key"):  # fmt: skip
        assert credential_name(Path(name)), name
    for name in ("credentials-policy.md", "env.md", "roadmap.md", "notes.txt", "budget.xlsx"):
        assert credential_name(Path(name)) is None, name
    key = _write(tmp_path, "innocent.txt", b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n")
    assert "credential file" in (sniff(key).skip or "")
    deck = _write(tmp_path, "deck.key", b"PK\x03\x04rest of a Keynote zip")
    assert "Keynote" in (sniff(deck).skip or "")

"""A hostile corpus, generated (never hand-placed): files an attacker, or an ordinary mess of a
shared drive, puts in a client's folder. `write_hostile(root, outside)` returns what each file
should come to: "indexed" for good files, or ("skipped" | "failed", a word its reason holds).

Run as a script to write one for a manual try: `python -m tests.ingest.hostile_corpus DIR`.
"""

from __future__ import annotations

import base64
import os
import random
import sys
import zipfile
from pathlib import Path

from tests.ingest.conftest import make_docx, make_encrypted_pdf, make_pdf

# Fake credentials in the shapes detect-secrets knows; none is real.
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
DB_PASSWORD = "S3cr3tPassw0rd-9f2c"
GITHUB_TOKEN = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
SLACK_TOKEN = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
CONFIG_SECRET = "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A"
SECRETS = (AWS_KEY_ID, DB_PASSWORD, GITHUB_TOKEN, SLACK_TOKEN, CONFIG_SECRET)
PEM_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n" + (PEM_BODY + "\n") * 8 + "-----END RSA PRIVATE KEY-----\n"
)
DEPTH = 1050

BODY = (
    "The platform team reviews every production change in a short weekly meeting. Each owner "
    "explains the rollout plan, the rollback plan and the metric that shows success."
)


def _doc(title: str, marker: str) -> str:
    return f"# {title}\n\n{BODY} Marker {marker}.\n\n## Details\n\n{BODY}\n"


def write_good(root: Path) -> dict[str, str]:
    """Ordinary documents, each with a unique marker word: source -> marker."""
    root.mkdir(parents=True, exist_ok=True)
    good = {}
    for i, name in enumerate(
        [
            "roadmap.md",
            "name with spaces.md",
            "ünïcødé 名前.md",
            "line\nbreak.md",
            "notes.txt",
        ]
    ):
        marker = f"goodmarker{i}"
        (root / name).write_text(_doc(f"Good document {i}", marker), encoding="utf-8")
        good[name] = marker
    make_pdf(root / "report.pdf", [("Quarterly report", BODY + " Marker goodmarkerpdf.")])
    good["report.pdf"] = "goodmarkerpdf"
    make_docx(root / "plan.docx", "Hiring plan", [("Roles", BODY + " Marker goodmarkerdocx.")])
    good["plan.docx"] = "goodmarkerdocx"
    return good


def _zip_with(path: Path, entries: dict[str, bytes | str]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def _docx_bomb(path: Path, megabytes: int) -> None:
    """A valid .docx of ~100 KB whose document.xml expands to `megabytes` of XML."""
    make_docx(path, "Bomb", [("Section", BODY)])
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    xml = entries["word/document.xml"].decode()
    para = "<w:p><w:r><w:t>" + "lorem ipsum " * 40 + "</w:t></w:r></w:p>"
    start = xml.index("<w:body>") + len("<w:body>")
    paras = para * (megabytes * 1024 * 1024 // len(para))
    entries["word/document.xml"] = (xml[:start] + paras + xml[start:]).encode()
    _zip_with(path, entries)


def _malformed_docx(path: Path) -> None:
    make_docx(path, "Broken", [("Section", BODY)])
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    entries["word/document.xml"] = b"<w:document><w:body><w:p>unclosed <w:t>text</w:p"
    _zip_with(path, entries)


def _image_only_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(30, 30, 30)
    for i in range(10):
        pdf.rect(10 + i * 15, 20, 10, 200, style="F")
    pdf.output(str(path))


def _nested_html(depth: int, marker: str) -> str:
    opening = "".join(f'<div class="d{i}">' for i in range(depth))
    closing = "</div>" * depth
    return (
        "<html><head><title>Nested page</title>"
        "<script>document.write('scriptmarker'); fetch('https://evil.example/x')</script>"
        "</head><body>"
        + opening
        + f"<p>{BODY} Marker {marker}.</p>"
        + '<a href="javascript:alert(1)">jslinkmarker click</a>'
        + "<script>var stolen = 'scriptmarker';</script>"
        + closing
        + "</body></html>"
    )


def write_hostile(root: Path, outside: Path) -> dict[str, object]:
    """Write the hostile files under `root` (and a victim file under `outside`)."""
    rng = random.Random(9)
    root.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "other-client-secret.md").write_text(_doc("Other client", "victimmarker"))
    expect: dict[str, object] = {}

    # Symlinks: out of the folder (file and folder), broken, and back into the folder.
    (root / "linked-out.md").symlink_to(outside / "other-client-secret.md")
    (root / "linked-dir").symlink_to(outside, target_is_directory=True)
    (root / "dangling.md").symlink_to(root / "does-not-exist.md")
    (root / "inside-copy.md").symlink_to(root / "roadmap.md")
    expect["linked-out.md"] = ("skipped", "outside the ingested folder")
    expect["linked-dir"] = ("skipped", "outside the ingested folder")
    expect["dangling.md"] = ("skipped", "broken symlink")
    expect["inside-copy.md"] = ("skipped", "indexed once")

    # Credential files, by name and by content.
    (root / "id_rsa").write_text(PRIVATE_KEY)
    (root / "server.pem").write_text(PRIVATE_KEY)
    (root / "terraform.tfstate").write_text(
        '{"version": 4, "terraform_version": "1.6.0", "resources": [{"instances": '
        f'[{{"attributes": {{"password": "{DB_PASSWORD}"}}}}]}}]}}'
    )
    (root / "env.production").write_text(
        f"DATABASE_URL=postgres://app:{DB_PASSWORD}@db.internal/prod\n"
    )
    (root / "prod.env").write_text(f"GITHUB_TOKEN={GITHUB_TOKEN}\n")
    (root / "credentials").write_text(
        f"[default]\naws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {CONFIG_SECRET}\n"
    )
    (root / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n"
        f"    client-key-data: {CONFIG_SECRET}\n"
    )
    (root / "innocent-name.txt").write_text("see below\n" + PRIVATE_KEY)
    for name in (
        "id_rsa",
        "server.pem",
        "terraform.tfstate",
        "env.production",
        "prod.env",
        "credentials",
        "kubeconfig",
        "innocent-name.txt",
    ):
        expect[name] = ("skipped", "credential file")

    # An ordinary document that quotes secrets: indexed, with the secrets redacted.
    (root / "runbook.md").write_text(
        "# Runbook\n\nConnect with "
        f"postgresql://app:{DB_PASSWORD}@10.0.0.5/app for reporting.\n\n"
        f"The deploy bot uses {GITHUB_TOKEN} and posts with {SLACK_TOKEN}.\n\n"
        f"```\naws_access_key_id = {AWS_KEY_ID}\napi_key: {CONFIG_SECRET}\n```\n\n"
        "Marker runbookmarker.\n"
    )
    expect["runbook.md"] = "indexed"

    # Zip bombs, broken and odd files.
    _docx_bomb(root / "bomb.docx", 25)
    expect["bomb.docx"] = ("skipped", "uncompressed")
    _malformed_docx(root / "malformed.docx")
    expect["malformed.docx"] = ("failed", "DOCX")
    make_pdf(root / "whole.pdf", [("Page", BODY)])
    data = (root / "whole.pdf").read_bytes()
    (root / "truncated.pdf").write_bytes(data[: len(data) // 3])
    expect["truncated.pdf"] = ("failed", "PDF")
    make_encrypted_pdf(root / "encrypted.pdf", root / "whole.pdf")
    expect["encrypted.pdf"] = ("failed", "encrypted")
    (root / "whole.pdf").unlink()
    _image_only_pdf(root / "scan.pdf")
    expect["scan.pdf"] = ("skipped", "no text")
    (root / "renamed.pdf").write_text("this is not a pdf at all")
    expect["renamed.pdf"] = ("failed", "not a PDF")
    (root / "empty.md").write_bytes(b"")
    expect["empty.md"] = ("skipped", "empty")
    (root / "oversize.txt").write_bytes(b"big file line\n" * (1024 * 1024 // 7))  # ~2 MB
    expect["oversize.txt"] = ("skipped", "over the")
    _zip_with(root / "deck.key", {"index.apxl": "<keynote/>"})  # a Keynote deck, not a key
    expect["deck.key"] = ("skipped", "Keynote")
    (root / "random.bin").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    expect["random.bin"] = ("skipped", "binary")

    # Text that is valid only in parts, or in another encoding: indexed, with a note.
    (root / "invalid-utf8.txt").write_bytes(
        b"Budget notes \xff\xfe\xfa for the invalidmarker team.\n" + BODY.encode()
    )
    expect["invalid-utf8.txt"] = "indexed"
    (root / "utf16.txt").write_text(f"{BODY} Marker utf16marker.\n", encoding="utf-16")
    expect["utf16.txt"] = "indexed"

    # Unbounded things: one huge line, a 200 KB base64 blob, a huge title, deep HTML.
    blob = base64.b64encode(rng.randbytes(30_000)).decode()  # 40 KB
    (root / "blob.md").write_text(f"# Attachment\n\nMarker blobmarker.\n\n{blob}\n")
    expect["blob.md"] = "indexed"
    (root / "one-line.txt").write_text(("words in one endless line " * 3_000).strip())
    expect["one-line.txt"] = "indexed"
    (root / "huge-title.md").write_text(
        "---\ntitle: " + "T" * 50_000 + "\n---\n\n" + _doc("Body", "hugetitlemarker")
    )
    expect["huge-title.md"] = "indexed"
    (root / "nested.html").write_text(_nested_html(2000, "nestedmarker"))
    expect["nested.html"] = "indexed"

    # 1,050 nested folders with a document at the bottom.
    deep = root
    for _ in range(DEPTH):  # one level at a time: mkdir(parents=True) itself recurses
        deep = deep / "d"
        deep.mkdir()
    (deep / "deep.md").write_text(_doc("Deep", "deepmarker"))
    expect["/".join(["d"] * DEPTH) + "/deep.md"] = "indexed"
    return expect


def remove_deep_chain(root: Path) -> None:
    """Delete a chain of nested `d` folders bottom-up: shutil.rmtree (and so pytest's tmp
    cleanup, for every later session on the machine) recurses and fails on 1,050 levels."""
    chain = [root]
    while (chain[-1] / "d").is_dir():
        chain.append(chain[-1] / "d")
    for folder in reversed(chain):
        for child in folder.iterdir():
            if not child.is_dir() or child.is_symlink():
                child.unlink()
        folder.rmdir()


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    write_good(target / "client")
    expected = write_hostile(target / "client", target / "elsewhere")
    print(f"wrote {len(expected)} hostile files under {os.fspath(target)}")

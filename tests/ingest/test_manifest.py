from ingest.manifest import PENDING, Manifest, Row


def _row(source="a.md", status="indexed", sha="s1"):
    return Row("/r", source, "playbook", "d1", sha, 10, 123, 3, status, "", "md")


def test_rows_round_trip_and_survive_reopen(tmp_path):
    path = tmp_path / "m.sqlite"
    with Manifest(path) as manifest:
        manifest.put(_row())
        manifest.put_many([_row("b.md", PENDING)])
        manifest.set_meta("store", "here")
    with Manifest(path) as manifest:
        rows = manifest.rows()
        assert set(rows) == {("/r", "a.md"), ("/r", "b.md")}
        assert rows[("/r", "a.md")].chunks == 3
        assert [r.source for r in manifest.pending()] == ["b.md"]
        assert manifest.get_meta("store") == "here"


def test_touch_delete_and_clear(tmp_path):
    with Manifest(tmp_path / "m.sqlite") as manifest:
        manifest.put(_row())
        manifest.touch(("/r", "a.md"), 999, 12)
        assert manifest.rows()[("/r", "a.md")].mtime_ns == 999
        assert manifest.rows()[("/r", "a.md")].size == 12
        manifest.put(_row("b.md"))
        manifest.delete(("/r", "a.md"))
        assert list(manifest.rows()) == [("/r", "b.md")]
        manifest.clear()
        assert manifest.rows() == {}

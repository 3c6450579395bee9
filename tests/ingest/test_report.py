from ingest.report import FileResult, IngestReport


def _report(*statuses):
    report = IngestReport()
    for i, status in enumerate(statuses):
        report.add(FileResult(f"/r/{i}", str(i), "playbook", status, chunks=2))
    return report


def test_exit_code_rules():
    assert _report("indexed", "failed").exit_code() == 0
    assert _report("indexed", "failed").exit_code(strict=True) == 1
    assert _report("unchanged", "skipped").exit_code(strict=True) == 0
    # Files were given but none could be indexed.
    assert _report("failed", "skipped").exit_code() == 1
    # Nothing given, or only removals: not a failure.
    assert _report().exit_code() == 0
    assert _report("removed").exit_code() == 0


def test_counts_and_dict():
    report = _report("indexed", "indexed", "unchanged", "failed")
    assert report.counts == {
        "indexed": 2,
        "unchanged": 1,
        "removed": 0,
        "skipped": 0,
        "failed": 1,
    }
    assert report.chunks == 4
    assert report.to_dict()["files"][3]["status"] == "failed"

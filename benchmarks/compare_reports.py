"""Is a new eval run within the confidence interval of a reference run?

    python benchmarks/compare_reports.py REFERENCE/report.json NEW/report.json

For each per-item metric: the reference mean with its 95% bootstrap interval (items resampled,
2,000 draws), the new mean, and the paired difference with its own 95% interval (the same items
resampled in both runs). Used to show the ONNX runtime's retrieval equals torch's
(docs/benchmarks.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

DRAWS = 2000


def _scores(report: dict) -> dict[str, dict[str, float]]:
    return {item["id"]: item.get("scores") or {} for item in report["items"]}


def main() -> None:
    ref_path, new_path = sys.argv[1:3]
    ref = _scores(json.loads(Path(ref_path).read_text()))
    new = _scores(json.loads(Path(new_path).read_text()))
    ids = sorted(set(ref) & set(new))
    metrics = sorted({m for i in ids for m in ref[i]})
    rng = np.random.default_rng(0)
    print(f"{len(ids)} items; 95% bootstrap intervals over items ({DRAWS} draws)")
    header = (
        f"{'metric':<22}{'reference [95% CI]':>26}{'new':>8}{'paired diff [95% CI]':>30}  within"
    )
    print(header)
    print("-" * len(header))
    for metric in metrics:
        both = [i for i in ids if ref[i].get(metric) is not None and new[i].get(metric) is not None]
        if not both:
            continue
        a = np.asarray([ref[i][metric] for i in both], dtype=float)
        b = np.asarray([new[i][metric] for i in both], dtype=float)
        draws = rng.integers(0, len(both), size=(DRAWS, len(both)))
        ref_ci = np.percentile(a[draws].mean(axis=1), [2.5, 97.5])
        diff_ci = np.percentile((b - a)[draws].mean(axis=1), [2.5, 97.5])
        within = ref_ci[0] <= b.mean() <= ref_ci[1]
        print(
            f"{metric:<22}{a.mean():>8.3f} [{ref_ci[0]:.3f}, {ref_ci[1]:.3f}]{b.mean():>10.3f}"
            f"{b.mean() - a.mean():>+10.3f} [{diff_ci[0]:+.3f}, {diff_ci[1]:+.3f}]"
            f"  {'yes' if within else 'NO'}"
        )


if __name__ == "__main__":
    main()

"""Print the retrieval signals behind abstention for answerable vs unanswerable eval questions,
and the thresholds that separate them best.

    python benchmarks/calibrate_abstention.py DATA_DIR DATASET.jsonl [DATA_DIR DATASET.jsonl ...]

Each DATA_DIR must already hold the index of the dataset's corpus (as `cto-advisor eval` builds).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from advisor.answering.abstention import missing_key_terms
from advisor.core.settings import Settings
from advisor.retrieval.hybrid import Retrieval
from advisor.service.facade import Advisor


def signals(retrieval: Retrieval) -> dict[str, float]:
    missing = missing_key_terms(retrieval.query, retrieval.lexicon)
    return {"top_dense": retrieval.top_dense, "missing": float(len(missing))}


def main(argv: list[str]) -> None:
    rows = []
    for data_dir, dataset in zip(argv[::2], argv[1::2], strict=True):
        advisor = Advisor(Settings(data_dir=data_dir))
        for line in Path(dataset).read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            question = item.get("question") or " ".join(item["turns"])
            retrieval = advisor.retriever.search(question, client=item.get("client"), k=10)
            rows.append((item["id"], item["answerable"], signals(retrieval)))
    for rid, answerable, sig in sorted(rows, key=lambda r: r[2]["top_dense"]):
        flags = " ".join(f"{k}={v:.3f}" for k, v in sig.items())
        print(f"{'A' if answerable else 'U'} {rid:10s} {flags}")

    answerable = [s for _, a, s in rows if a]
    unanswerable = [s for _, a, s in rows if not a]
    best = None
    for min_dense in [x / 100 for x in range(20, 46)]:
        for penalty in [x / 100 for x in range(0, 31, 2)]:
            for floor in [x / 100 for x in range(20, 51)]:

                def weak(s, d=min_dense, p=penalty, f=floor):
                    return s["top_dense"] < d or s["top_dense"] - p * s["missing"] < f

                abstain = sum(map(weak, unanswerable)) / max(1, len(unanswerable))
                false = sum(map(weak, answerable)) / max(1, len(answerable))
                # A wrong refusal costs a founder more than a hedged answer: weigh it double,
                # and prefer the gentlest thresholds among equals (less fitted to these sets).
                score = (abstain - 2 * false, -min_dense, -floor, -penalty)
                if best is None or score > best[0]:
                    best = (score, min_dense, penalty, floor, abstain, false)
    _, min_dense, penalty, floor, abstain, false = best
    print(
        f"\nbest: MIN_DENSE={min_dense:.2f} MISSING_TERM_PENALTY={penalty:.2f} "
        f"MIN_EVIDENCE={floor:.2f} -> unanswerable abstained {abstain:.2f}, answerable "
        f"abstained {false:.2f} ({len(unanswerable)} unanswerable, {len(answerable)} answerable)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

"""Tuning and frozen test parts of every eval dataset.

`evals/splits.toml` declares, per dataset (keyed by the file's stem), which items form the frozen
test part, each with a digest of its content, and the digest of the whole part. Everything else
in the dataset is the tuning part: thresholds, weights, windows and rules are chosen by looking
at it only. Reports show both parts; the test part is what the README quotes.

The eval command and a test verify the frozen part before any work starts: an edited, removed or
renamed test item is refused (`FrozenSplitError`, exit 2), so nobody can make a test item pass by
rewording it. Adding items is free: a new item is tuning until it is declared test, which changes
the checked-in digest and shows up in review.

The unit is an item (`id`) for question and memo datasets, and a client for the assessment labels
(leave-one-client-out: a client's verdicts and conflicts are all tuning or all test).

    python -m evals.splits show DATASET      # the parts and digests of a dataset as it is now
    python -m evals.splits check             # verify every declared split (what CI runs)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from advisor.core.errors import InputError

DEFAULT_PATH = Path(str(resources.files("evals") / "splits.toml"))
TUNING, TEST = "tuning", "test"
PARTS = (TUNING, TEST)
Unit = Literal["item", "client"]


class FrozenSplitError(InputError):
    """A dataset's frozen test part differs from its checked-in digest."""


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def item_digest(record: Mapping[str, Any]) -> str:
    """A short digest of one item's whole content (every field, formatting ignored)."""
    return _digest(record)[:16]


def part_digest(digests: Mapping[str, str]) -> str:
    """The digest of a whole test part from its items' digests."""
    return _digest(sorted(digests.items()))


@dataclass(frozen=True)
class Split:
    """A dataset's declared frozen test part."""

    name: str
    unit: Unit
    test: Mapping[str, str]  # unit id -> item digest
    digest: str
    origin: str

    def part_of(self, unit_id: str | None) -> str:
        return TEST if unit_id in self.test else TUNING

    def verify(self, records: Mapping[str, Mapping[str, Any]]) -> None:
        """Raise unless every frozen item is present and unchanged. `records` maps each unit id
        of the dataset to its raw content."""
        problems = []
        for unit_id, digest in sorted(self.test.items()):
            record = records.get(unit_id)
            if record is None:
                problems.append(f"{unit_id}: removed or renamed")
            elif item_digest(record) != digest:
                problems.append(
                    f"{unit_id}: edited (digest {item_digest(record)}, frozen {digest})"
                )
        if not problems and part_digest(self.test) != self.digest:
            problems.append(f"the part's digest in {self.origin} does not match its items")
        if problems:
            listed = "\n".join(f"  {p}" for p in problems)
            raise FrozenSplitError(
                f"the frozen test part of {self.name} changed:\n{listed}\nThe test part is "
                "frozen: restore these items. A deliberate change is a reviewed edit of "
                f"{self.origin} (`python -m evals.splits show DATASET` prints the digests)."
            )


def load_splits(path: Path = DEFAULT_PATH) -> dict[str, Split]:
    """Every declared split in a splits file."""
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read the splits file {path}: {exc}") from exc
    out = {}
    for name, section in data.items():
        unit = section.get("unit", "item")
        test = section.get("test")
        digest = section.get("sha256")
        if unit not in ("item", "client") or not isinstance(test, dict) or not digest:
            raise InputError(
                f'{path}: [{name}] needs unit = "item" | "client", sha256 = "..." and a '
                f"[{name}.test] table of id = digest"
            )
        out[name] = Split(name, unit, dict(test), str(digest), Path(path).name)
    return out


def split_for(name: str, path: Path = DEFAULT_PATH) -> Split | None:
    """The declared split of dataset `name` (its file stem), or None."""
    return load_splits(path).get(name)


# -- reading a dataset's units ------------------------------------------------------------------


def jsonl_records(path: Path) -> dict[str, dict[str, Any]]:
    """{id: raw item} of a JSONL dataset (lines that do not parse are the loader's business)."""
    out: dict[str, dict[str, Any]] = {}
    for line in Path(path).read_text("utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "id" in record:
            out.setdefault(str(record["id"]), record)
    return out


def client_records(path: Path) -> dict[str, dict[str, Any]]:
    """{client: its labels} of an assessment label file."""
    import yaml

    data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    clients = data.get("clients") or {}
    return {str(name): labels for name, labels in clients.items()}


def records_of(path: Path, unit: Unit) -> dict[str, dict[str, Any]]:
    return client_records(path) if unit == "client" else jsonl_records(path)


def verified_split(dataset: Path, path: Path = DEFAULT_PATH) -> Split | None:
    """The dataset's split, verified against the file (raises FrozenSplitError); None when the
    dataset declares none (a user's own question file)."""
    split = split_for(Path(dataset).stem, path)
    if split is not None:
        split.verify(records_of(Path(dataset), split.unit))
    return split


def part_of(split: Split | None, unit_id: str | None) -> str:
    """The part an item (or a client's label) belongs to; everything is tuning without a split."""
    return split.part_of(unit_id) if split is not None else TUNING


def select(items: Iterable[Any], split: Split | None, part: str, key=lambda i: i.id) -> list[Any]:
    """The items of one part, in order."""
    return [i for i in items if part_of(split, key(i)) == part]


# -- proposing and showing splits ---------------------------------------------------------------


def stratified_test_ids(records: Mapping[str, Mapping[str, Any]], salt: str) -> list[str]:
    """Half of each stratum (answerable, category, client or not, conversation or not), chosen
    by a hash of the id: the rule that drew the checked-in test parts of the question sets."""
    strata: dict[tuple, list[str]] = {}
    for unit_id, r in records.items():
        key = (r.get("answerable"), r.get("category"), bool(r.get("client")), "turns" in r)
        strata.setdefault(key, []).append(unit_id)
    chosen: list[str] = []
    offset = 0
    for key in sorted(strata, key=repr):
        ranked = sorted(strata[key], key=lambda i: hashlib.sha256(f"{salt}:{i}".encode()).digest())
        chosen += ranked[offset % 2 :: 2]
        offset += len(ranked)  # odd strata alternate which half gets the extra item
    return sorted(chosen)


def render_section(
    name: str, unit: Unit, records: Mapping[str, Mapping[str, Any]], test_ids: Sequence[str]
) -> str:
    """The TOML section declaring `test_ids` of a dataset frozen."""
    digests = {i: item_digest(records[i]) for i in sorted(test_ids)}
    lines = [
        f'["{name}"]',
        f'unit = "{unit}"',
        f'sha256 = "{part_digest(digests)}"',
        "",
        f'["{name}".test]',
    ]
    lines += [f'"{i}" = "{d}"' for i, d in digests.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.splits", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print a dataset's parts and the digests of its test part")
    show.add_argument("dataset", type=Path)
    show.add_argument("--propose", action="store_true", help="draw a stratified half as test")
    show.add_argument("--unit", choices=["item", "client"], default=None)
    check = sub.add_parser("check", help="verify every declared split against its dataset")
    check.add_argument("datasets", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.command == "show":
        declared = split_for(args.dataset.stem)
        unit = args.unit or (declared.unit if declared else "item")
        records = records_of(args.dataset, unit)
        if args.propose or declared is None:
            test_ids = stratified_test_ids(records, args.dataset.stem)
        else:
            test_ids = [i for i in declared.test if i in records]
        print(render_section(args.dataset.stem, unit, records, test_ids))
        print(f"# {len(records) - len(test_ids)} tuning, {len(test_ids)} test", file=sys.stderr)
        return 0
    failed = False
    for dataset in args.datasets:
        try:
            split = verified_split(dataset)
        except FrozenSplitError as exc:
            print(exc, file=sys.stderr)
            failed = True
            continue
        print(
            f"{dataset}: "
            + (
                "no declared split"
                if split is None
                else f"{len(split.test)} frozen test items verified"
            )
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

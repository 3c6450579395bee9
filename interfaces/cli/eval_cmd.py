"""`cto-advisor eval`: score retrieval, citations and abstention over a corpus and question set."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from advisor.core.errors import AdvisorError
from interfaces.cli.base import app, console, err_console, settings_from_cli

BAD_INPUT = 2
GATE_FAILED = 1


def _fail_input(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(BAD_INPUT)


@app.command("eval")
def eval_command(
    corpus: Annotated[
        Path, typer.Option("--corpus", help="Folder of documents; clients/<name>/ are a client's.")
    ],
    dataset: Annotated[Path, typer.Option("--dataset", help="Questions, one JSON item a line.")],
    k: Annotated[int, typer.Option("--k", min=1, max=10, help="Depth for hit@k and recall@k.")] = 5,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Where report.json and report.md go (default: reports/<dataset>)."
        ),
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="A previous report.json to compare with.")
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under",
            help="METRIC=VALUE (repeatable): exit 1 when METRIC is below VALUE, e.g. hit@5=0.9.",
        ),
    ] = None,
    system_name: Annotated[
        str, typer.Option("--system", help="'ours' (the product) or 'naive' (LangChain recipe).")
    ] = "ours",
    task: Annotated[
        str,
        typer.Option(
            "--task",
            help="'answers' (questions, the default), 'assessment' (practice verdicts) or "
            "'memo' (recommendation memos).",
        ),
    ] = "answers",
    thresholds: Annotated[
        Path | None,
        typer.Option(
            "--thresholds",
            help="Gates file: its [<dataset file stem>] section applies to --system ours "
            "(default: the packaged evals/thresholds.toml).",
        ),
    ] = None,
    save_baseline: Annotated[
        Path | None,
        typer.Option(
            "--save-baseline",
            help="Also write this run as a slim baseline report (to check in as the new bar).",
        ),
    ] = None,
    judge: Annotated[
        str,
        typer.Option(
            "--judge",
            help="'llm': also have the configured model judge faithfulness (faithfulness_llm); "
            "use only with a real model. Default 'none': the claim-level support check only.",
        ),
    ] = "none",
) -> None:
    """Score retrieval, citations and abstention over a corpus and question set.

    Indexes --corpus (cached), runs every question of --dataset, writes report.json and report.md
    (metrics for the tuning and the frozen test part), and exits 1 if a gate fails (2 on bad
    input, including an edited frozen test part).
    """
    # Evals are imported here so that other subcommands do not pay for them.
    from evals.dataset import load_dataset
    from evals.evaluate import JUDGES, SYSTEMS, make_judge, make_system
    from evals.report import load_baseline
    from evals.scoring import answer_metrics, metric_names
    from evals.thresholds import ThresholdError, parse_fail_under, unknown_metrics

    if task not in ("answers", "assessment", "memo"):
        raise _fail_input(f"--task must be answers, assessment or memo, not {task!r}")
    if system_name not in SYSTEMS:
        raise _fail_input(f"--system must be one of {', '.join(SYSTEMS)}, not {system_name!r}")
    if judge not in JUDGES:
        raise _fail_input(f"--judge must be one of {', '.join(JUDGES)}, not {judge!r}")
    if task != "answers" and system_name != "ours":
        raise _fail_input(f"--task {task} runs our system only")
    # Everything that can be wrong with the input is checked before any indexing starts.
    if not corpus.is_dir():
        raise _fail_input(f"corpus folder {corpus} does not exist: give --corpus DIR")
    settings = settings_from_cli()
    judged = judge == "llm" and settings.use_llm and system_name == "ours"
    try:
        split = _split(dataset)
        bounds = parse_fail_under(fail_under or [])
        if task == "answers":
            items = load_dataset(dataset, corpus=corpus)
            known = metric_names(k, judged=True)
            unknown = unknown_metrics(bounds, known)
            if unknown:
                raise _fail_input(
                    f"--fail-under names unknown metric(s) {', '.join(unknown)}; "
                    f"known: {', '.join(metric_names(k, judged=judged))}"
                )
        gates, gate_base, skipped = _gates(thresholds, dataset, system_name, save_baseline, task, k)
        base = load_baseline(baseline) if baseline is not None else gate_base
    except (AdvisorError, ThresholdError) as exc:
        raise _fail_input(str(exc)) from exc

    out_dir = out or Path("reports") / dataset.stem
    config_extra = {"out": str(out_dir), "created_at": _now()}
    try:
        if task == "answers":
            system = make_system(system_name, settings, corpus, k)
            with err_console.status(f"indexing {corpus} for the {system_name} system"):
                system.prepare()
            report = _answers(
                system, items, corpus, k, settings, make_judge(settings, system, judge), split,
                {"dataset": str(dataset.resolve()), "dataset_name": dataset.stem,
                 "system": system_name, "judge": judge, **config_extra},
            )  # fmt: skip
            metrics = answer_metrics(k, judged)
        elif task == "memo":
            from evals import memo_eval

            with err_console.status(f"indexing {corpus} and drafting memos"):
                report = memo_eval.evaluate_memos(settings, corpus, dataset, split)
            report["config"].update(config_extra)
            metrics = memo_eval.memo_metrics()
        else:
            from evals import assessment_eval

            with err_console.status(f"indexing {corpus} and assessing every labelled client"):
                report = assessment_eval.run(settings, corpus, dataset, split)
            report["config"].update(config_extra)
            metrics = assessment_eval.assessment_metrics()
    except AdvisorError as exc:
        raise _fail_input(str(exc)) from exc

    finish(report, metrics, gates, split, base, gate_base, bounds, skipped, out_dir, save_baseline)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _split(dataset: Path):
    """The dataset's frozen split, verified (an edited test part is refused before any work)."""
    from evals.splits import verified_split

    if not dataset.is_file():
        raise AdvisorError(f"dataset {dataset} does not exist: give --dataset FILE")
    return verified_split(dataset)


def _gates(thresholds, dataset: Path, system_name: str, save_baseline, task: str, k: int):
    """(the dataset's gates, its checked-in baseline or None, notes on what is not gated)."""
    from evals.report import load_baseline
    from evals.scoring import metric_names
    from evals.thresholds import DEFAULT_PATH, Gates, ThresholdError, load_gates, unknown_metrics

    skipped: list[str] = []
    path = thresholds or DEFAULT_PATH
    if system_name != "ours":
        skipped.append(f"thresholds file not applied to the {system_name} system")
        return Gates([]), None, skipped
    gates = load_gates(path, dataset.stem)
    if task == "answers":
        known = metric_names(k, judged=True)
        typos = [
            name
            for name in unknown_metrics(gates.thresholds, known)
            if not re.fullmatch(r"(hit|recall)@\d+", name)  # another --k's metric
        ]
        if typos:
            raise ThresholdError(
                f"{path}: [{dataset.stem}] names unknown metric(s) {', '.join(typos)}; "
                f"known: {', '.join(known)}"
            )
    if not gates.found:
        skipped.append(f"{path.name} has no [{dataset.stem}] section")
    first = (
        gates.baseline is not None
        and not gates.baseline.exists()
        and save_baseline is not None
        and save_baseline.resolve() == gates.baseline.resolve()
    )
    if first:
        skipped.append(f"no baseline yet: this run becomes {save_baseline}")
        return gates, None, skipped
    base = load_baseline(gates.baseline) if gates.baseline is not None else None
    return gates, base, skipped


def _answers(system, items, corpus, k, settings, judge, split, config) -> dict:
    """Run the answer task with a progress bar."""
    from evals.evaluate import evaluate

    config = {
        "corpus": str(corpus.resolve()),
        "k": k,
        "mode": "llm" if settings.use_llm else "offline",
        "llm_model": settings.llm_model if settings.use_llm else None,
        "embedding_model": settings.embedding_model,
        "chunk_tokens": settings.chunk_tokens,
        "top_k": settings.top_k,
        "index_dir": str(system.index_dir),
        **config,
    }
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=err_console,
        transient=True,
    )
    with progress:
        bar = progress.add_task("questions", total=len(items), last="")
        return evaluate(
            system,
            items,
            corpus,
            k,
            config,
            judge=judge,
            on_done=lambda obs: progress.update(bar, advance=1, last=obs.item.id),
            split=split,
        )


def finish(report, metrics, gates, split, base, gate_base, bounds, skipped, out_dir, save) -> None:
    """Compare, write the reports, print the table, save a baseline, apply the gates, exit."""
    import json

    from evals.parts import compare_parts, gate
    from evals.report import metrics_table, slim_report, write_report
    from evals.thresholds import check

    task = report.get("task", "answers")
    if base is not None:
        report["comparison"] = compare_parts(
            report["items"], base.get("items", []), metrics, gates.margins, split
        )
    if task == "memo":
        from evals.memo_eval import ITEM_KEYS, write_memo_report

        json_path, md_path = write_memo_report(report, out_dir, base)
        slim = slim_report(report, ITEM_KEYS)
    elif task == "assessment":
        from evals.assessment_eval import write

        json_path, md_path = write(report, out_dir, base)
        slim = slim_report(report, ("id", "unit", "kind", "gold", "got", "found", "right",
                                    "scope_leaks"))  # fmt: skip
    else:
        json_path, md_path = write_report(report, out_dir, base)
        slim = slim_report(report)
    console.print(metrics_table(report, base))
    console.print(f"wrote {json_path} and {md_path}")
    if save is not None:
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_text(json.dumps(slim, indent=1) + "\n", "utf-8")
        console.print(f"wrote the baseline {save}")

    lines, notes = check(report["metrics"], bounds)
    failures = [*lines]
    skipped = [*skipped, *notes]
    if gate_base is not None and not _same_kind(gate_base, report):
        failures.append(
            "the checked-in baseline was run with another system, mode or k: re-run with "
            "--save-baseline"
        )
        gate_base = None
    found, notes = gate(
        report, metrics, gates, split, gate_base.get("items", []) if gate_base else None
    )
    failures += [f.line for f in found]
    skipped += notes
    for line in report.get("missed_targets", []):
        err_console.print(f"[yellow]target missed:[/] {escape(line)}", highlight=False)
    for line in skipped:
        err_console.print(f"[yellow]skipped:[/] {escape(line)}", highlight=False)
    if failures:
        for line in failures:
            err_console.print(f"[bold red]FAILED:[/] {escape(line)}", highlight=False)
        raise typer.Exit(GATE_FAILED)


def _same_kind(base: dict, report: dict) -> bool:
    keys = ("system", "mode", "k")
    return all(base.get("config", {}).get(key) == report["config"].get(key) for key in keys)

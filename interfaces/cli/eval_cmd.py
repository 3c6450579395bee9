"""`cto-advisor eval`: score retrieval, citations and abstention over a corpus and question set."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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
) -> None:
    """Score retrieval, citations and abstention over a corpus and question set.

    Indexes --corpus (cached), runs every question of --dataset, writes report.json and report.md, and exits 1 if a gate fails (2 on bad input).
    """
    # Evals are imported here so that other subcommands do not pay for them.
    from evals.dataset import load_dataset
    from evals.evaluate import SYSTEMS, compare_with, evaluate, make_judge, make_system
    from evals.report import load_baseline, metrics_table, slim_report, write_report
    from evals.scoring import metric_names
    from evals.stats import compare, significant_drops
    from evals.thresholds import (
        DEFAULT_PATH,
        Gates,
        ThresholdError,
        check,
        load_gates,
        parse_fail_under,
        unknown_metrics,
    )

    if task == "assessment":
        _assessment(corpus, dataset, out, thresholds)
        return
    if task == "memo":
        _memo_task(corpus, dataset, out, thresholds, save_baseline)
        return
    if task != "answers":
        raise _fail_input(f"--task must be answers, assessment or memo, not {task!r}")
    # Everything that can be wrong with the input is checked before any indexing starts.
    if system_name not in SYSTEMS:
        raise _fail_input(f"--system must be one of {', '.join(SYSTEMS)}, not {system_name!r}")
    if not corpus.is_dir():
        raise _fail_input(f"corpus folder {corpus} does not exist: give --corpus DIR")
    settings = settings_from_cli()
    try:
        items = load_dataset(dataset, corpus=corpus)
        gates = parse_fail_under(fail_under or [])
        judged = settings.use_llm and system_name == "ours"
        known = metric_names(k, judged=judged)
        unknown = unknown_metrics(gates, metric_names(k, judged=True))
        if unknown:
            raise _fail_input(
                f"--fail-under names unknown metric(s) {', '.join(unknown)}; "
                f"known: {', '.join(known)}"
            )
        skipped: list[str] = []
        thresholds_path = thresholds or DEFAULT_PATH
        gates_file = Gates([])
        gate_base = None
        if system_name != "ours":
            skipped.append(f"thresholds file not applied to the {system_name} system")
        else:
            gates_file = load_gates(thresholds_path, dataset.stem)
            typos = [
                name
                for name in unknown_metrics(gates_file.thresholds, metric_names(k, judged=True))
                if not re.fullmatch(r"(hit|recall)@\d+", name)  # another --k's metric
            ]
            if typos:
                raise ThresholdError(
                    f"{thresholds_path}: [{dataset.stem}] names unknown metric(s) "
                    f"{', '.join(typos)}; known: {', '.join(metric_names(k, judged=True))}"
                )
            if not gates_file.found:
                skipped.append(f"{thresholds_path.name} has no [{dataset.stem}] section")
            first_baseline = (
                gates_file.baseline is not None
                and not gates_file.baseline.exists()
                and save_baseline is not None
                and save_baseline.resolve() == gates_file.baseline.resolve()
            )
            if first_baseline:
                skipped.append(f"no baseline yet: this run becomes {save_baseline}")
            elif gates_file.baseline is not None:
                gate_base = load_baseline(gates_file.baseline)
        base = load_baseline(baseline) if baseline is not None else gate_base
    except AdvisorError as exc:
        raise _fail_input(str(exc)) from exc

    out_dir = out or Path("reports") / dataset.stem
    system = make_system(system_name, settings, corpus, k)
    with err_console.status(f"indexing {corpus} for the {system_name} system"):
        system.prepare()
    judge = make_judge(settings, system)
    config = {
        "corpus": str(corpus.resolve()),
        "dataset": str(dataset.resolve()),
        "dataset_name": dataset.stem,
        "system": system_name,
        "k": k,
        "mode": "llm" if settings.use_llm else "offline",
        "llm_model": settings.llm_model if settings.use_llm else None,
        "embedding_model": settings.embedding_model,
        "chunk_tokens": settings.chunk_tokens,
        "top_k": settings.top_k,
        "index_dir": str(system.index_dir),
        "out": str(out_dir),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
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
        task = progress.add_task("questions", total=len(items), last="")
        report = evaluate(
            system,
            items,
            corpus,
            k,
            config,
            judge=judge,
            on_done=lambda obs: progress.update(task, advance=1, last=obs.item.id),
        )

    if base is not None:
        compare_with(report, base)
    json_path, md_path = write_report(report, out_dir, base)
    console.print(metrics_table(report, base))
    console.print(f"wrote {json_path} and {md_path}")
    if save_baseline is not None:
        import json

        save_baseline.parent.mkdir(parents=True, exist_ok=True)
        save_baseline.write_text(json.dumps(slim_report(report), indent=1) + "\n", "utf-8")
        console.print(f"wrote the baseline {save_baseline}")

    failures, not_measured = check(
        report["metrics"], [*gates, *gates_file.thresholds], gates_file.optional
    )
    if gate_base is not None:
        same_kind = all(
            gate_base["config"].get(key) == config[key] for key in ("system", "mode", "k")
        )
        if not same_kind:
            failures.append(
                f"the baseline {gates_file.baseline} was run with another system, mode or k: "
                "re-run with --save-baseline"
            )
        else:
            comparison = compare(report["items"], gate_base["items"], list(report["metrics"]))
            failures += significant_drops(comparison)
    for line in skipped + not_measured:
        err_console.print(f"[yellow]skipped:[/] {escape(line)}", highlight=False)
    if failures:
        for line in failures:
            err_console.print(f"[bold red]FAILED:[/] {escape(line)}", highlight=False)
        raise typer.Exit(GATE_FAILED)


def _assessment(corpus: Path, dataset: Path, out: Path | None, thresholds: Path | None) -> None:
    """Score practice verdicts and conflict detection against labels; gate on [<dataset>.*]."""
    from evals import assessment_eval
    from evals.thresholds import DEFAULT_PATH, check, load_thresholds

    if not corpus.is_dir():
        raise _fail_input(f"corpus folder {corpus} does not exist: give --corpus DIR")
    settings = settings_from_cli()
    try:
        gates = load_thresholds(thresholds or DEFAULT_PATH, dataset.stem)
        with err_console.status(f"indexing {corpus} and assessing every labelled client"):
            report = assessment_eval.run(settings, corpus, dataset)
    except AdvisorError as exc:
        raise _fail_input(str(exc)) from exc
    json_path, md_path = assessment_eval.write(report, out or Path("reports") / dataset.stem)
    table = Table(title="Assessment eval")
    for column in ("metric", "value", "95% CI"):
        table.add_column(column)
    for name, value in report["metrics"].items():
        ci = report["intervals"].get(name)
        table.add_row(name, f"{value:.3f}", f"{ci[0]:.3f}-{ci[1]:.3f}" if ci else "n/a")
    console.print(table)
    console.print(f"wrote {json_path} and {md_path}")
    failures, not_measured = check(report["metrics"], gates)
    for line in not_measured:
        err_console.print(f"[yellow]skipped:[/] {line}", highlight=False)
    if failures:
        for line in failures:
            err_console.print(f"[bold red]FAILED:[/] {line}", highlight=False)
        raise typer.Exit(GATE_FAILED)


def _memo_task(
    corpus: Path, dataset: Path, out: Path | None, thresholds: Path | None, save: Path | None
) -> None:
    """`--task memo`: draft a memo per topic, score it, gate on [<dataset>.*] and its baseline."""
    import json

    from evals import memo_eval
    from evals.report import load_baseline
    from evals.thresholds import DEFAULT_PATH, check, load_gates

    if not corpus.is_dir():
        raise _fail_input(f"corpus folder {corpus} does not exist: give --corpus DIR")
    try:
        gates = load_gates(thresholds or DEFAULT_PATH, dataset.stem)
        first = save is not None and gates.baseline is not None and not gates.baseline.exists()
        base = load_baseline(gates.baseline) if gates.baseline and not first else None
        with err_console.status(f"indexing {corpus} and drafting memos"):
            report, paths = memo_eval.evaluate_memos(
                settings_from_cli(), corpus, dataset, out or Path("reports") / dataset.stem
            )
    except AdvisorError as exc:
        raise _fail_input(str(exc)) from exc
    metrics, ci = report["metrics"], report["ci"]
    table = Table("memo metric", "value", "95% CI")
    for name, value in metrics.items():
        interval = ci.get(name)
        table.add_row(
            name, f"{value:.3f}", f"{interval[0]:.3f}-{interval[1]:.3f}" if interval else ""
        )
    console.print(table)
    console.print(f"wrote {paths[0]} and {paths[1]}")
    if save is not None:
        save.parent.mkdir(parents=True, exist_ok=True)
        slim = memo_eval.slim(metrics, report["items"], report["config"])
        save.write_text(json.dumps(slim, indent=1) + "\n", "utf-8")
        console.print(f"wrote the baseline {save}")
    failures, not_measured = check(metrics, gates.thresholds, gates.optional)
    if base is not None:
        failures += memo_eval.regressions(report["items"], base.get("items", []))
    if not gates.found:
        not_measured.append(f"the thresholds file has no [{dataset.stem}] section")
    for line in report["missed_targets"]:
        err_console.print(f"[yellow]target missed:[/] {escape(line)}", highlight=False)
    for line in not_measured:
        err_console.print(f"[yellow]skipped:[/] {escape(line)}", highlight=False)
    if failures:
        for line in failures:
            err_console.print(f"[bold red]FAILED:[/] {escape(line)}", highlight=False)
        raise typer.Exit(GATE_FAILED)

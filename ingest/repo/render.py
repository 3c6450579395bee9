"""Repository facts as short factual documents, so retrieval, answers, memos and the assessment
can quote them like any other evidence. Each document cites a path in the repository and the
commit its facts were computed at; its heading path names the repository and the component, so
a question such as "Who knows Billing Core?" finds the component's ownership."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from ingest.parse import Block, ParsedDoc
from ingest.repo.knowledge import Component, Knowledge
from ingest.repo.stack import MAX_DEPS, StackProfile

TOP_LANGUAGES = 8
TOP_AUTHORS = 5


@dataclass
class FactDoc:
    """One derived document: a repository path (folder or file) and its facts as text."""

    kind: str  # stack | languages | manifest | services | images | terraform | ci | deploy | ownership | knowledge | cadence
    path: str  # "" for the repository root, "billing/" for a folder, "a/package.json" for a file
    doc: ParsedDoc
    facts: dict = field(default_factory=dict)


def date(ts: int) -> str:
    return time.strftime("%d %b %Y", time.gmtime(ts)) if ts else "never"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def pct(x: float) -> str:
    return f"{round(100 * x)}%"


def _names(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _doc(title: str, blocks: list[Block]) -> ParsedDoc:
    return ParsedDoc(title, blocks)


def _h(text: str, depth: int = 0) -> Block:
    return Block("title", text, depth=depth)


def _t(text: str) -> Block:
    return Block("text", text)


def _table(rows: list[list[str]]) -> Block:
    return Block("table", "\n".join(" | ".join(r) for r in rows), rows=rows)


# -- the stack ----------------------------------------------------------------------------


def _deployment_sentence(profile: StackProfile) -> str:
    hosting = profile.platforms.get("hosting", {})
    if not hosting:
        return "No deployment configuration (Procfile, Kubernetes manifests, Terraform compute) was found."
    parts = [f"{tech} ({', '.join(paths[:3])})" for tech, paths in sorted(hosting.items())]
    text = f"Deployment targets found in the code: {_names(parts)}."
    if "Kubernetes" not in hosting:
        text += " There are no Kubernetes manifests, Helm charts or Kubernetes clusters in the repository."
    return text


def _on_pull_requests(runs: bool | None) -> str:
    if runs is None:
        return "Whether it runs on pull requests cannot be told from the file."
    return "It runs on pull requests." if runs else "It does not run on pull requests."


def _ci_sentence(profile: StackProfile) -> str:
    if not profile.ci:
        return "No CI configuration was found (no GitHub Actions, GitLab CI or CircleCI files)."
    parts = []
    for ci in profile.ci:
        pr = _on_pull_requests(ci.pull_requests).lower().rstrip(".")
        parts.append(f"{ci.system} ({ci.path}, {plural(len(ci.jobs), 'job')}; {pr})")
    return f"CI: {_names(parts)}."


def stack_docs(repo: str, sha: str, profile: StackProfile, knowledge: Knowledge) -> list[FactDoc]:
    title = f"{repo} repository: stack profile"
    short = sha[:7]
    total = sum(b for _, b in profile.languages) or 1
    langs = [
        f"{lang} {pct(b / total)}"
        for lang, b in profile.languages[:TOP_LANGUAGES]
        if b / total >= 0.01
    ]
    managers = sorted({f"{m.manager} ({m.path})" for m in profile.manifests})
    frameworks = []
    for m in profile.manifests:
        frameworks += [f"{d.name} {d.version}".strip() for d in m.deps if not d.dev][:6]
    images = sorted({b for _p, bases in profile.images for b in bases})
    providers = sorted({p for tf in profile.terraform.values() for p in tf["providers"]})
    stores = sorted(
        {image for _p, _n, image in profile.services if image and not image.startswith("built")}
    )
    hosting = sorted(profile.platforms.get("hosting", {}))
    ci_systems = sorted(profile.platforms.get("ci", {}))
    lead = [f"{_names(langs[:3]) or 'no detected language'}"]
    if stores:
        lead.append(f"services {_names(stores)} in docker-compose")
    if hosting:
        lead.append(f"deployed to {_names(hosting)}")
    if profile.terraform:
        lead.append("infrastructure in Terraform")
    if ci_systems:
        lead.append(f"CI on {_names(ci_systems)}")
    summary = [
        f"The {repo} stack, read from its files at commit {short}: {'; '.join(lead)}.",
    ]
    if managers:
        summary.append(f"Package managers: {_names(managers)}.")
    if frameworks:
        summary.append(f"Main direct dependencies: {', '.join(frameworks[:18])}.")
    if images:
        summary.append(f"Docker base images: {_names(images)}.")
    if providers:
        summary.append(f"Terraform providers: {_names(providers)}.")
    summary.append(_deployment_sentence(profile))
    summary.append(_ci_sentence(profile))
    docs = [
        FactDoc(
            "stack",
            "",
            _doc(title, [_h("Stack summary"), _t(" ".join(summary))]),
            {
                "kind": "stack",
                "repo": repo,
                "platforms": profile.platforms,
                "components": [c.path for c in knowledge.components]
                + [c.name for c in knowledge.components],
            },
        )
    ]
    if profile.languages:
        rows = [["language", "bytes", "share"]] + [
            [lang, str(b), pct(b / total)] for lang, b in profile.languages[:20]
        ]
        docs.append(
            FactDoc(
                "languages",
                "",
                _doc(
                    title,
                    [
                        _h("Languages by size"),
                        _t(
                            f"Languages of {repo} by size of the team's own files (vendored, generated, binary and ignored files left out), at commit {short}:"
                        ),
                        _table(rows),
                    ],
                ),
            )
        )
    for m in profile.manifests:
        runtime = f" Runtime: {m.runtime}." if m.runtime else ""
        deps = [d for d in m.deps if not d.dev]
        dev = [d for d in m.deps if d.dev]
        text = f"{m.path} declares {len(deps)} direct dependencies and {len(dev)} development dependencies ({m.manager}).{runtime}"
        listed = [f"{d.name} {d.version}".strip() for d in deps[:MAX_DEPS]]
        if listed:
            text += f" Dependencies: {', '.join(listed)}."
        if len(deps) > MAX_DEPS:
            text += f" ... and {len(deps) - MAX_DEPS} more."
        if dev:
            text += f" Development: {', '.join(f'{d.name} {d.version}'.strip() for d in dev[:15])}."
        docs.append(
            FactDoc("manifest", m.path, _doc(title, [_h(f"Dependencies in {m.path}"), _t(text)]))
        )
    by_file: dict[str, list[str]] = {}
    for path, name, image in profile.services:
        by_file.setdefault(path, []).append(f"{name} ({image or 'no image'})")
    for path, items in by_file.items():
        docs.append(
            FactDoc(
                "services",
                path,
                _doc(
                    title,
                    [
                        _h(f"Services in {path}"),
                        _t(f"{path} runs {len(items)} services: {_names(items)}."),
                    ],
                ),
            )
        )
    for path, bases in profile.images:
        docs.append(
            FactDoc(
                "images",
                path,
                _doc(
                    title,
                    [
                        _h(f"Docker image {path}"),
                        _t(f"{path} builds on the base image {_names(bases)}."),
                    ],
                ),
            )
        )
    for folder, tf in sorted(profile.terraform.items()):
        providers = [f"{p} {v}".strip() for p, v in sorted(tf["providers"].items())]
        resources = [f"{n} {k}" if n > 1 else k for k, n in tf["resources"].most_common(25)]
        text = f"Terraform in {folder}/ ({len(tf['files'])} files): providers {_names(providers) or 'none declared'}; resources {', '.join(resources) or 'none'}."
        docs.append(
            FactDoc(
                "terraform", f"{folder}/", _doc(title, [_h(f"Terraform in {folder}/"), _t(text)])
            )
        )
    for ci in profile.ci:
        pr = _on_pull_requests(ci.pull_requests)
        jobs = "; ".join(
            f"{name}: {', '.join(steps[:8]) or 'no steps listed'}" for name, steps in ci.jobs[:12]
        )
        text = f"{ci.system} is configured in {ci.path}, triggered by {_names(ci.triggers) or 'unknown events'}. {pr} Jobs and steps: {jobs or 'none'}."
        docs.append(FactDoc("ci", ci.path, _doc(title, [_h(f"CI in {ci.path}"), _t(text)])))
    deploy = [_deployment_sentence(profile)]
    if profile.kubernetes:
        kinds = sorted({k for _p, k in profile.kubernetes})
        deploy.append(
            f"Kubernetes objects: {_names(kinds)} in {len({p for p, _ in profile.kubernetes})} files."
        )
    docs.append(
        FactDoc(
            "deploy",
            "",
            _doc(title, [_h("Deployment and hosting"), _t(" ".join(deploy))]),
            {"kind": "deploy", "repo": repo, "platforms": profile.platforms},
        )
    )
    if profile.problems:
        docs.append(
            FactDoc(
                "problems",
                "",
                _doc(
                    title,
                    [
                        _h("Files that could not be read"),
                        _t("; ".join(profile.problems[:20]) + "."),
                    ],
                ),
            )
        )
    return docs


# -- who knows what -----------------------------------------------------------------------


def _share_sentences(c: Component) -> list[str]:
    """Every author's share in one sentence that names the component (so it reads alone and
    is quoted whole, not as near-identical per-author sentences)."""
    parts = []
    for s in c.shares[:TOP_AUTHORS]:
        if s.commits:
            part = f"{s.author} {pct(s.commit_share)} of commits ({s.commits})"
            part += f" and {pct(s.line_share)} of lines" if s.lines else ""
        else:
            part = f"{s.author} {pct(s.line_share)} of lines but no commit in 12 months (last {date(s.last)})"
        parts.append(part)
    if not parts:
        return []
    more = f"; {len(c.shares) - TOP_AUTHORS} more authors" if len(c.shares) > TOP_AUTHORS else ""
    return [f"Shares of {c.name}'s recent commits and current lines: {'; '.join(parts)}{more}."]


def ownership_doc(repo: str, sha: str, c: Component, window_end: int) -> FactDoc:
    title = f"{repo} repository: who knows what"
    head = f"Who knows {c.name} ({c.path})"
    if c.stale:
        lead = [
            f"{c.name} ({c.path} in {repo}) is a stale area: no commit in the 12 months to "
            f"{date(window_end)}; last changed {date(c.last_commit)} by {c.last_author or 'unknown'}."
        ]
    else:
        lead = [
            f"Who knows {c.name} ({c.path} in {repo}): {_names(c.bus_authors)} made half of its "
            f"{plural(c.commits_12m, 'commit')} by {plural(c.authors_12m, 'author')} in the 12 "
            f"months to {date(window_end)} (bus factor {c.bus_factor})."
        ]
        if c.bus_factor == 1:
            lead.append(f"{c.bus_authors[0]} is a single point of knowledge for {c.name}.")
    tail = (
        f"{c.name}: {plural(c.files, 'file')}, {plural(c.lines, 'line')}, last commit "
        f"{date(c.last_commit)} by {c.last_author}."
    )
    text = " ".join([*lead, *_share_sentences(c), tail])
    facts = {
        "kind": "ownership",
        "repo": repo,
        "component": c.path,
        "name": c.name,
        "bus_factor": c.bus_factor,
        "authors_12m": c.authors_12m,
        "commits_12m": c.commits_12m,
        "stale": c.stale,
        "code": c.lines > 0,  # a folder of documents only has no code anyone must know
    }
    return FactDoc("ownership", c.path, _doc(title, [_h(head), _t(text)]), facts)


def knowledge_docs(repo: str, sha: str, k: Knowledge) -> list[FactDoc]:
    docs = [ownership_doc(repo, sha, c, k.window_end) for c in k.components]
    title = f"{repo} repository: who knows what"
    rows = [["component", "bus factor", "authors (12 months)", "top author", "last commit"]]
    for c in k.components:
        top = c.shares[0] if c.shares else None
        who = (
            f"{top.author} ({pct(top.commit_share)} of commits)" if top and top.commits else "none"
        )
        rows.append(
            [
                f"{c.name} ({c.path})",
                "stale" if c.stale else str(c.bus_factor),
                str(c.authors_12m),
                who,
                date(c.last_commit),
            ]
        )
    single = [c for c in k.components if not c.stale and c.bus_factor == 1]
    stale = [c for c in k.components if c.stale]
    lines = [
        f"Knowledge concentration in {repo} over the 12 months to {date(k.window_end)}: "
        f"{len(single)} of {len(k.components)} components have a bus factor of 1"
        + (f" ({_names([f'{c.name}: {c.bus_authors[0]}' for c in single])})" if single else "")
        + "."
    ]
    if stale:
        lines.append(
            f"Stale areas with no commit in 12 months: {_names([f'{c.path} (last {date(c.last_commit)})' for c in stale])}."
        )
    if k.removed:
        lines.append(
            f"Components removed from the code: {_names([f'{r.path} (last changed {date(r.last_commit)} by {r.last_author})' for r in k.removed])}."
        )
    blocks = [_h("Bus factor by component"), _t(" ".join(lines)), _table(rows)]
    facts = {
        "kind": "knowledge",
        "repo": repo,
        "components": {c.path: c.bus_factor for c in k.components if not c.stale},
    }
    docs.append(FactDoc("knowledge", "", _doc(title, blocks), facts))
    return docs


def cadence_doc(repo: str, sha: str, k: Knowledge, profile: StackProfile) -> FactDoc:
    cad = k.cadence
    title = f"{repo} repository: how the team ships"
    months = [m for m in cad.months]
    active = [m for m in months if m[1] or m[2]]
    per_month = cad.commits_12m / max(1, len(months))
    ci_pr = [ci for ci in profile.ci if ci.pull_requests]
    text = (
        f"How the {repo} team ships (history to {date(k.window_end)}): "
        f"{plural(cad.commits_12m, 'commit')} and {plural(cad.merges_12m, 'merge')} in the last 12 "
        f"months, about {per_month:.1f} commits a month, by {plural(cad.authors_12m, 'author')}; "
        f"{len(active)} of {len(months)} months had commits. "
        f"{pct(cad.test_share)} of commits touch tests. "
        + (
            f"CI runs on pull requests ({_names([f'{c.system} in {c.path}' for c in ci_pr])})."
            if ci_pr
            else (
                "CI does not run on pull requests."
                if profile.ci
                else "No CI configuration was found."
            )
        )
        + f" The history starts {date(cad.first_commit)} ({cad.total_commits} commits in all)."
    )
    rows = [["month", "commits", "merges", "authors"]] + [
        [m, str(c), str(mg), str(a)] for m, c, mg, a in months
    ]
    facts = {
        "kind": "cadence",
        "repo": repo,
        "commits_12m": cad.commits_12m,
        "merges_12m": cad.merges_12m,
        "test_share": round(cad.test_share, 3),
        "ci_on_pull_requests": bool(ci_pr),
    }
    return FactDoc(
        "cadence", "", _doc(title, [_h("Commit and merge cadence"), _t(text), _table(rows)]), facts
    )


def facts_json(facts: dict) -> str | None:
    return json.dumps(facts, sort_keys=True, default=str) if facts else None

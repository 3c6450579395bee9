"""The stack profile of a commit: languages by size, package managers and direct dependencies,
services and images, Terraform, CI and where the code is deployed, each fact with its path.

Manifests are read with their formats' parsers (json, tomllib, PyYAML, lxml, packaging,
python-hcl2, dockerfile-parse); only names, versions, images and resource types are taken,
never values of settings or environment variables (where secrets live).
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, field

import yaml

from ingest.repo.tree import RepoFile

MAX_DEPS = 40  # dependencies listed per manifest (the rest are counted)

# Where code runs and how it is built, by the files that give it away: file names and
# Terraform resource types are these formats' own signatures. The aliases are the names
# documents use for them ("EKS" is Kubernetes), for comparing a document's claim with the code.
PLATFORMS: dict[str, dict[str, list[str]]] = {
    "hosting": {
        "Kubernetes": ["kubernetes", "k8s", "eks", "gke", "aks", "openshift"],
        "Heroku": ["heroku"],
        "AWS ECS": ["ecs", "fargate"],
        "AWS Lambda": ["lambda"],
        "AWS EC2": ["ec2"],
        "Fly.io": ["fly.io"],
        "Render": ["render.com"],
        "Vercel": ["vercel"],
        "Netlify": ["netlify"],
        "Google App Engine": ["app engine"],
        "Google Cloud Run": ["cloud run"],
    },
    "ci": {
        "GitHub Actions": ["github actions"],
        "GitLab CI": ["gitlab ci", "gitlab-ci", "gitlab pipelines"],
        "CircleCI": ["circleci", "circle ci"],
        "Jenkins": ["jenkins"],
        "Travis CI": ["travis ci", "travis-ci"],
        "Bitbucket Pipelines": ["bitbucket pipelines"],
        "Azure Pipelines": ["azure pipelines"],
        "Buildkite": ["buildkite"],
    },
}
_BY_FILE = {
    "Procfile": ("hosting", "Heroku"),
    "heroku.yml": ("hosting", "Heroku"),
    "app.json": ("hosting", "Heroku"),
    "fly.toml": ("hosting", "Fly.io"),
    "render.yaml": ("hosting", "Render"),
    "vercel.json": ("hosting", "Vercel"),
    "netlify.toml": ("hosting", "Netlify"),
    "serverless.yml": ("hosting", "AWS Lambda"),
    "Chart.yaml": ("hosting", "Kubernetes"),
    "kustomization.yaml": ("hosting", "Kubernetes"),
    "Jenkinsfile": ("ci", "Jenkins"),
    ".travis.yml": ("ci", "Travis CI"),
    "bitbucket-pipelines.yml": ("ci", "Bitbucket Pipelines"),
    "azure-pipelines.yml": ("ci", "Azure Pipelines"),
}
_BY_RESOURCE = {
    "heroku_": "Heroku",
    "aws_eks_": "Kubernetes",
    "google_container_cluster": "Kubernetes",
    "azurerm_kubernetes_cluster": "Kubernetes",
    "kubernetes_": "Kubernetes",
    "helm_release": "Kubernetes",
    "aws_ecs_": "AWS ECS",
    "aws_lambda_function": "AWS Lambda",
    "aws_instance": "AWS EC2",
    "aws_autoscaling_group": "AWS EC2",
    "google_cloud_run_": "Google Cloud Run",
    "google_app_engine_": "Google App Engine",
}


@dataclass
class Dependency:
    name: str
    version: str = ""
    dev: bool = False


@dataclass
class Manifest:
    path: str
    manager: str  # npm, pip, poetry, go modules, bundler, maven, gradle, cargo, composer
    deps: list[Dependency] = field(default_factory=list)
    runtime: str = ""  # "python >=3.11", "go 1.22", "php ^7.4"


@dataclass
class CIConfig:
    path: str
    system: str
    triggers: list[str] = field(default_factory=list)
    pull_requests: bool | None = None  # None: cannot tell from the file
    jobs: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class StackProfile:
    languages: list[tuple[str, int]] = field(default_factory=list)  # (language, bytes)
    manifests: list[Manifest] = field(default_factory=list)
    services: list[tuple[str, str, str]] = field(default_factory=list)  # (path, name, image)
    images: list[tuple[str, list[str]]] = field(default_factory=list)  # Dockerfile bases
    terraform: dict[str, dict] = field(default_factory=dict)  # folder -> providers, resources
    ci: list[CIConfig] = field(default_factory=list)
    kubernetes: list[tuple[str, str]] = field(default_factory=list)  # (path, kind)
    platforms: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # manifests that could not be read

    def add_platform(self, category: str, tech: str, path: str) -> None:
        paths = self.platforms.setdefault(category, {}).setdefault(tech, [])
        if path not in paths:
            paths.append(path)

    def to_json(self) -> dict:
        return asdict(self)


# -- per-format readers ---------------------------------------------------------------------


def _package_json(path: str, data: bytes, names: set[str]) -> Manifest:
    doc = json.loads(data)
    folder = posixpath.dirname(path)
    near = {posixpath.basename(p) for p in names if posixpath.dirname(p) == folder}
    manager = "yarn" if "yarn.lock" in near else "pnpm" if "pnpm-lock.yaml" in near else "npm"
    m = Manifest(path, manager)
    for key, dev in (("dependencies", False), ("devDependencies", True)):
        for name, version in (doc.get(key) or {}).items():
            m.deps.append(Dependency(str(name), str(version), dev))
    if isinstance(doc.get("engines"), dict) and doc["engines"].get("node"):
        m.runtime = f"node {doc['engines']['node']}"
    return m


def _requirement(line: str) -> Dependency | None:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(line)
    except InvalidRequirement:
        return None
    return Dependency(req.name, str(req.specifier))


def _requirements_txt(path: str, data: bytes, names: set[str]) -> Manifest:
    m = Manifest(path, "pip")
    for raw in data.decode("utf-8", errors="replace").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-", "git+", "http:", "https:")):
            continue
        dep = _requirement(line)
        if dep:
            dep.dev = "dev" in posixpath.basename(path) or "test" in posixpath.basename(path)
            m.deps.append(dep)
    return m


def _pyproject(path: str, data: bytes, names: set[str]) -> Manifest:
    doc = tomllib.loads(data.decode("utf-8", errors="replace"))
    project = doc.get("project") or {}
    poetry = (doc.get("tool") or {}).get("poetry") or {}
    m = Manifest(path, "poetry" if poetry else "pip")
    for line in project.get("dependencies") or []:
        if dep := _requirement(str(line)):
            m.deps.append(dep)
    for group in (project.get("optional-dependencies") or {}).values():
        for line in group:
            if dep := _requirement(str(line)):
                dep.dev = True
                m.deps.append(dep)
    for name, spec in (poetry.get("dependencies") or {}).items():
        version = spec if isinstance(spec, str) else str((spec or {}).get("version", ""))
        if name.lower() == "python":
            m.runtime = f"python {version}"
        else:
            m.deps.append(Dependency(name, version))
    if project.get("requires-python"):
        m.runtime = f"python {project['requires-python']}"
    return m


_GO_REQUIRE = re.compile(
    r"^\s*(?:require\s+)?([\w./~-]+\.[\w./~-]+)\s+(v[\w.+-]+)(\s*//\s*indirect)?"
)


def _go_mod(path: str, data: bytes, names: set[str]) -> Manifest:
    m = Manifest(path, "go modules")
    for line in data.decode("utf-8", errors="replace").splitlines():
        if line.startswith("go "):
            m.runtime = f"go {line.split()[1]}"
        elif (match := _GO_REQUIRE.match(line)) and not match.group(3):
            m.deps.append(Dependency(match.group(1), match.group(2)))
    return m


_GEM = re.compile(r"""^\s*gem\s+['"]([^'"]+)['"](?:\s*,\s*['"]([^'"]+)['"])?""")


def _gemfile(path: str, data: bytes, names: set[str]) -> Manifest:
    m = Manifest(path, "bundler")
    group_dev = False
    for line in data.decode("utf-8", errors="replace").splitlines():
        stripped = line.strip()
        if stripped.startswith("group"):
            group_dev = "development" in stripped or "test" in stripped
        elif stripped == "end":
            group_dev = False
        elif match := _GEM.match(line):
            m.deps.append(Dependency(match.group(1), match.group(2) or "", group_dev))
        elif stripped.startswith("ruby "):
            m.runtime = "ruby " + stripped.split(None, 1)[1].strip("'\"")
    return m


def _pom(path: str, data: bytes, names: set[str]) -> Manifest:
    from lxml import etree

    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    ns = {"m": root.nsmap.get(None, "")} if root.nsmap.get(None) else {}
    prefix = "m:" if ns else ""
    m = Manifest(path, "maven")
    for dep in root.iterfind(f"{prefix}dependencies/{prefix}dependency", ns):

        def text(tag: str, dep=dep) -> str:
            node = dep.find(f"{prefix}{tag}", ns)
            return (node.text or "").strip() if node is not None else ""

        m.deps.append(
            Dependency(
                f"{text('groupId')}:{text('artifactId')}", text("version"), text("scope") == "test"
            )
        )
    return m


_GRADLE = re.compile(
    r"""^\s*(implementation|api|compileOnly|runtimeOnly|testImplementation|testRuntimeOnly)\s*\(?\s*['"]([^:'"]+:[^:'"]+)(?::([^'"]+))?['"]"""
)


def _gradle(path: str, data: bytes, names: set[str]) -> Manifest:
    m = Manifest(path, "gradle")
    for line in data.decode("utf-8", errors="replace").splitlines():
        if match := _GRADLE.match(line):
            m.deps.append(
                Dependency(match.group(2), match.group(3) or "", match.group(1).startswith("test"))
            )
    return m


def _cargo(path: str, data: bytes, names: set[str]) -> Manifest:
    doc = tomllib.loads(data.decode("utf-8", errors="replace"))
    m = Manifest(path, "cargo")
    for key, dev in (("dependencies", False), ("dev-dependencies", True)):
        for name, spec in (doc.get(key) or {}).items():
            version = spec if isinstance(spec, str) else str((spec or {}).get("version", ""))
            m.deps.append(Dependency(name, version, dev))
    return m


def _composer(path: str, data: bytes, names: set[str]) -> Manifest:
    doc = json.loads(data)
    m = Manifest(path, "composer")
    for key, dev in (("require", False), ("require-dev", True)):
        for name, version in (doc.get(key) or {}).items():
            if name == "php":
                m.runtime = f"php {version}"
            elif not name.startswith("ext-"):
                m.deps.append(Dependency(name, str(version), dev))
    return m


_MANIFESTS = {
    "package.json": _package_json,
    "pyproject.toml": _pyproject,
    "go.mod": _go_mod,
    "Gemfile": _gemfile,
    "pom.xml": _pom,
    "build.gradle": _gradle,
    "build.gradle.kts": _gradle,
    "Cargo.toml": _cargo,
    "composer.json": _composer,
}


def _manifest_reader(name: str):
    if name in _MANIFESTS:
        return _MANIFESTS[name]
    if re.fullmatch(r"requirements(?:[-_.][\w-]+)?\.txt", name):
        return _requirements_txt
    return None


def _yaml_docs(data: bytes) -> list:
    return [d for d in yaml.safe_load_all(data.decode("utf-8", errors="replace")) if d]


def _compose(path: str, data: bytes, profile: StackProfile) -> None:
    for doc in _yaml_docs(data):
        for name, spec in ((doc.get("services") or {}) if isinstance(doc, dict) else {}).items():
            spec = spec if isinstance(spec, dict) else {}
            image = str(spec.get("image") or "")
            if not image and spec.get("build"):
                build = spec["build"]
                context = build if isinstance(build, str) else (build or {}).get("context", ".")
                image = f"built from {context}"
            profile.services.append((path, str(name), image))


def _dockerfile(path: str, data: bytes, profile: StackProfile) -> None:
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(data))
    stages = {
        str(i.get("value", "")).split()[-1].lower()
        for i in parser.structure
        if i.get("instruction") == "FROM" and " as " in str(i.get("value", "")).lower()
    }
    bases = [b for b in parser.parent_images if b.lower() not in stages]
    if bases:
        profile.images.append((path, list(dict.fromkeys(bases))))


def _terraform(path: str, data: bytes, profile: StackProfile) -> None:
    import hcl2

    doc = hcl2.loads(data.decode("utf-8", errors="replace"))
    folder = posixpath.dirname(path) or "."
    tf = profile.terraform.setdefault(
        folder, {"providers": {}, "resources": Counter(), "files": []}
    )
    tf["files"].append(path)

    def named(block: dict) -> dict:
        return {k.strip('"'): v for k, v in block.items() if not k.startswith("__")}

    for block in doc.get("terraform", []):
        for req in block.get("required_providers", []):
            for name, spec in named(req).items():
                source = spec.get("source", name) if isinstance(spec, dict) else name
                version = spec.get("version", "") if isinstance(spec, dict) else str(spec)
                tf["providers"][str(source).strip('"')] = str(version).strip('"')
    for block in doc.get("provider", []):
        for name in named(block):
            if not any(p.rsplit("/", 1)[-1] == name for p in tf["providers"]):
                tf["providers"][name] = ""
    for block in doc.get("resource", []):
        for kind, instances in named(block).items():
            for body in named(instances).values() if isinstance(instances, dict) else [{}]:
                count = body.get("count", 1) if isinstance(body, dict) else 1
                tf["resources"][kind] += count if isinstance(count, int) and count >= 0 else 1
            for prefix, tech in _BY_RESOURCE.items():
                if kind.startswith(prefix):
                    profile.add_platform("hosting", tech, path)


def _steps(steps) -> list[str]:
    out = []
    for step in steps or []:
        if isinstance(step, dict):
            label = step.get("name") or step.get("uses")
            if not label and step.get("run"):
                label = str(step["run"]).strip().splitlines()[0]
            if not label:
                label = next(iter(step), "")
                if isinstance(step.get(label), dict) and step[label].get("name"):
                    label = f"{label}: {step[label]['name']}"
            out.append(str(label)[:80])
        elif isinstance(step, str):
            out.append(step[:80])
    return out


def _github_actions(path: str, data: bytes) -> CIConfig:
    doc = yaml.safe_load(data.decode("utf-8", errors="replace")) or {}
    # YAML 1.1 reads the key `on` as True.
    on = doc.get("on", doc.get(True, {}))
    if isinstance(on, str):
        triggers = [on]
    elif isinstance(on, list):
        triggers = [str(t) for t in on]
    else:
        triggers = [str(t) for t in (on or {})]
    ci = CIConfig(path, "GitHub Actions", triggers)
    ci.pull_requests = any(t in ("pull_request", "pull_request_target") for t in triggers)
    for name, job in (doc.get("jobs") or {}).items():
        ci.jobs.append((str(name), _steps((job or {}).get("steps"))))
    return ci


def _gitlab(path: str, data: bytes) -> CIConfig:
    doc = yaml.safe_load(data.decode("utf-8", errors="replace")) or {}
    ci = CIConfig(path, "GitLab CI")
    text = json.dumps(doc, default=str)
    if "merge_request_event" in text or '"merge_requests"' in text:
        ci.pull_requests = True
        ci.triggers.append("merge requests")
    workflow = doc.get("workflow") or {}
    if not workflow:
        ci.triggers.append("every push (no workflow rules)")
        ci.pull_requests = True if ci.pull_requests is None else ci.pull_requests
    reserved = {
        "stages",
        "variables",
        "workflow",
        "include",
        "default",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
    }
    for name, job in doc.items():
        if name in reserved or str(name).startswith(".") or not isinstance(job, dict):
            continue
        ci.jobs.append((str(name), _steps(job.get("script"))))
    return ci


def _circleci(path: str, data: bytes) -> CIConfig:
    doc = yaml.safe_load(data.decode("utf-8", errors="replace")) or {}
    ci = CIConfig(path, "CircleCI", ["every push to a branch"])
    for name, job in (doc.get("jobs") or {}).items():
        ci.jobs.append((str(name), _steps((job or {}).get("steps"))))
    # CircleCI builds every pushed branch (so every pull request's branch) unless each workflow
    # job is filtered to named branches.
    filtered = []
    for wf in (doc.get("workflows") or {}).values():
        for job in (wf or {}).get("jobs", []) if isinstance(wf, dict) else []:
            spec = next(iter(job.values())) if isinstance(job, dict) else {}
            only = ((spec or {}).get("filters") or {}).get("branches", {}).get("only")
            filtered.append(bool(only))
    ci.pull_requests = not filtered or not all(filtered)
    return ci


def _kubernetes_kind(doc) -> str | None:
    if isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind"):
        return str(doc["kind"])
    return None


# -- the profile ------------------------------------------------------------------------------


def build_profile(files: list[RepoFile], contents: dict[str, bytes]) -> StackProfile:
    """The stack profile of the counted files (vendored, generated and ignored ones left out)."""
    profile = StackProfile()
    sizes: Counter = Counter()
    names = {f.path for f in files if not f.excluded}
    for f in files:
        if (
            not f.excluded
            and f.language
            and f.language_type in ("programming", "markup")
            and not f.documentation
        ):
            sizes[f.language] += f.size
    profile.languages = sizes.most_common()
    for f in files:
        if f.path not in contents:
            continue
        path, data = f.path, contents[f.path]
        name = posixpath.basename(path)
        try:
            _read_one(path, name, data, names, profile)
        except Exception as exc:  # a broken manifest is reported, never fatal
            detail = " ".join(str(exc).split())[:120] or type(exc).__name__
            profile.problems.append(f"{path}: could not be read ({detail})")
    return profile


def _read_one(path: str, name: str, data: bytes, names: set[str], profile: StackProfile) -> None:
    lower = name.lower()
    if reader := _manifest_reader(name):
        profile.manifests.append(reader(path, data, names))
    if name in _BY_FILE:
        profile.add_platform(*_BY_FILE[name], path)
    if re.fullmatch(r"(?:docker-)?compose(?:[.-][\w-]+)?\.ya?ml", lower):
        _compose(path, data, profile)
    elif lower == "dockerfile" or lower.startswith("dockerfile.") or lower.endswith(".dockerfile"):
        _dockerfile(path, data, profile)
    elif lower.endswith(".tf"):
        _terraform(path, data, profile)
    elif path.startswith(".github/workflows/") and lower.endswith((".yml", ".yaml")):
        profile.ci.append(_github_actions(path, data))
        profile.add_platform("ci", "GitHub Actions", path)
    elif name == ".gitlab-ci.yml":
        profile.ci.append(_gitlab(path, data))
        profile.add_platform("ci", "GitLab CI", path)
    elif path == ".circleci/config.yml":
        profile.ci.append(_circleci(path, data))
        profile.add_platform("ci", "CircleCI", path)
    elif lower.endswith((".yml", ".yaml")) and b"apiVersion" in data and b"kind" in data:
        kinds = [k for d in _yaml_docs(data) if (k := _kubernetes_kind(d))]
        for kind in kinds:
            profile.kubernetes.append((path, kind))
        if kinds:
            profile.add_platform("hosting", "Kubernetes", path)


def tech_aliases() -> dict[str, tuple[str, list[str]]]:
    """technology -> (category, names documents use for it)."""
    return {tech: (cat, names) for cat, techs in PLATFORMS.items() for tech, names in techs.items()}

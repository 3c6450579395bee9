"""Process-wide settings that keep the product offline and quiet (no telemetry, no downloads)."""

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_OFFLINE_DEFAULTS = {
    # Models come from installed packages only; a hub lookup must fail instead of downloading.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no "Loading weights" bar on every start
    # unstructured: no usage ping, no notice banner.
    "DO_NOT_TRACK": "1",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "SCARF_NO_ANALYTICS": "true",
    # Chroma reads this as the default for its own client settings.
    "ANONYMIZED_TELEMETRY": "False",
}


def configure_offline() -> None:
    """Set the offline/no-telemetry environment unless the user already chose otherwise."""
    for key, value in _OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
    # LangChain tracing only when the user configured it explicitly with a key.
    if not os.environ.get("LANGSMITH_API_KEY") and not os.environ.get("LANGCHAIN_API_KEY"):
        os.environ["LANGCHAIN_TRACING_V2"] = "false"
        os.environ["LANGSMITH_TRACING"] = "false"


# Client documents, accounts, audit and caches are private to the user who runs the product:
# every file this process (or Chroma, a parser worker) creates is 0600, every folder 0700.
PRIVATE_UMASK = 0o077
_CHECKED: set[str] = set()
log = logging.getLogger("advisor")


def private_files() -> None:
    """Make what this process creates from now on readable by its user only."""
    os.umask(PRIVATE_UMASK)


def secure_data_dir(path) -> list[str]:
    """Fix a data directory others can read (folders 0700, files 0600), once per process;
    returns what was changed, and warns when anything was."""
    from pathlib import Path

    root = Path(path)
    key = str(root.resolve()) if root.exists() else ""
    if not key or key in _CHECKED:
        return []
    fixed: list[str] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name, want in [(folder, 0o700)] + [(os.path.join(folder, f), 0o600) for f in files]:
            try:
                mode = os.lstat(name).st_mode
                if os.path.islink(name) or not mode & 0o077:
                    continue
                os.chmod(name, (mode & 0o777) & want)
                fixed.append(name)
            except OSError:
                continue
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
    _CHECKED.add(key)
    if fixed:
        log.warning(
            "%d file(s) or folder(s) in %s could be read by other users of this machine; "
            "they are now private to you (folders 0700, files 0600)",
            len(fixed),
            root,
        )
    return fixed


_IMPORT_LOCK = threading.Lock()


@contextmanager
def imports_hidden(*names: str) -> Iterator[None]:
    """Make `import NAME` raise ImportError inside the block, for modules not yet imported.

    For libraries that import a heavy optional dependency whenever it is installed and cope
    when it is not (thinc imports torch, bm25s imports numba). A None entry in sys.modules makes
    the import fail; it is removed afterwards, so the module stays importable for whoever really
    needs it later.
    """
    with _IMPORT_LOCK:
        hidden = [n for n in names if n not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            yield
        finally:
            for name in hidden:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]

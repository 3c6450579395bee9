"""Client code repositories as a source: the real stack, who knows what, how the team ships."""

from ingest.repo.run import RepoReport, ingest_repository
from ingest.repo.source import repos_dir

__all__ = ["RepoReport", "ingest_repository", "repos_dir"]

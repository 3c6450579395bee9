"""CTO Advisor: grounded, cited answers over a client's documents and the CTO's playbooks."""

from advisor.core.runtime import configure_offline, private_files

configure_offline()
private_files()  # every entry point (CLI, app, API, MCP, workers) imports this package first

__version__ = "0.1.0"

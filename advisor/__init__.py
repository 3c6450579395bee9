"""CTO Advisor: grounded, cited answers over a client's documents and the CTO's playbooks."""

from advisor.core.runtime import configure_offline

configure_offline()

__version__ = "0.1.0"

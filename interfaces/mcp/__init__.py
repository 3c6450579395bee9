"""The Model Context Protocol server (`cto-advisor mcp`): the advisor as tools for AI assistants."""

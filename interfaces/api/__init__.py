"""The HTTP API (`cto-advisor serve`): REST under /v1 and an OpenAI-compatible endpoint."""

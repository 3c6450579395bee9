"""Interfaces: the CLI, the API server and the MCP server (app.py is the Streamlit one)."""

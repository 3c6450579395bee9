"""Prompt templates as package data: read with importlib.resources by advisor.core.prompts."""

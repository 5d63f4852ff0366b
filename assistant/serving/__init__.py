"""Serving the library over HTTP: API, OpenAI-compatible endpoint, errors, limits, admin."""

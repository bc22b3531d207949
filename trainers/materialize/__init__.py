"""Columnar batch materializer of the stream-fed views (placeholder docstring)."""

"""Worlds: synthetic generation, real-data import, replay and analysis, one format."""

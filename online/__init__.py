"""colisten: online."""

"""colisten: infra."""

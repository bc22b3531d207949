"""colisten: feature_repo."""

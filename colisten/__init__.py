"""colisten: colisten."""

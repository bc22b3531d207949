"""colisten: trainers."""

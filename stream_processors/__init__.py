"""colisten: stream_processors."""

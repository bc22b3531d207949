"""The two-tower model (user tower + item tower) trained on HGNN embeddings."""

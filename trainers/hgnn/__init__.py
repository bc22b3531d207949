"""The HGNN half of 2T-HGNN: layer, model, sampler, loss, training, inference."""

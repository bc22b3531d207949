"""The paper's offline evaluation: split, metrics, baselines, report."""

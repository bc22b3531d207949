"""The whole loop on top of the stages: `colisten demo` once, `colisten run` continuously."""

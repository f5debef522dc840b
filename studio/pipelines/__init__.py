"""studio/pipelines."""

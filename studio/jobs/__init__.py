"""studio/jobs."""

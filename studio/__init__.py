"""Gait Studio: generate, edit and anonymize gait silhouette sequences.

The roof of the house: `studio.jobs` (the batch jobs, over `gaitdata`, `recognizers`,
`generators` and `evaluation`) and its two faces, the CLI (`studio.cli`, `studio.commands`) and
the web studio (`studio.app`). The ground floor is `gaitdata`.
"""

__version__ = "0.1.0"

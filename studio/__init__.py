"""Gait Studio: generate, edit and anonymize gait silhouette sequences.

The ground floor (`studio.data`) reads, pretreats and renders silhouettes; the roof
(`studio.pipelines`, `studio.cli`) orchestrates batch jobs over the other packages.
"""

__version__ = "0.1.0"

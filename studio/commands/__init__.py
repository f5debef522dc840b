"""One module per `studio` sub-command (see `studio.cli`)."""

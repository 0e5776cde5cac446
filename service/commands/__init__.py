"""Click command groups of the `netreason` CLI, one module per group (registered in `service.cli`)."""

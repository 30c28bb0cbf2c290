"""worker room."""

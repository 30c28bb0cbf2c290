"""parsers room."""

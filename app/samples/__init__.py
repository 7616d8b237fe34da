"""Sample documents generated on demand (no binary fixtures in the repository)."""

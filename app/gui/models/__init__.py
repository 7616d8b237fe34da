"""Qt item models: thin adapters over plain Python lists (no logic of their own)."""

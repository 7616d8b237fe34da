"""Text utilities shared by ingestion, retrieval, answers and risks (no heavy imports)."""

"""Hybrid (BM25 + dense) retrieval over the store."""

from app.retrieval.hybrid import HybridRetriever

__all__ = ["HybridRetriever"]

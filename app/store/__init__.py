"""Persistent index: the SQLite catalog (+FTS5) and the Chroma vector store."""

from app.store.catalog import Catalog
from app.store.vectors import VectorIndex, collection_name

__all__ = ["Catalog", "VectorIndex", "collection_name"]

"""Persistent index: the SQLite catalog (+FTS5) and the Chroma vector store.

``VectorIndex`` and ``collection_name`` load on first use: they pull numpy, which the desktop
window does not need in order to open (bench/gui_startup.py)."""

from app.store.catalog import Catalog

__all__ = ["Catalog", "VectorIndex", "collection_name"]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    if name in ("VectorIndex", "collection_name"):
        from app.store import vectors

        return getattr(vectors, name)
    raise AttributeError(name)

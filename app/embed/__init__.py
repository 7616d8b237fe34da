"""Text embedders: the bundled MiniLM (transformers, offline) and a fake one for tests."""

from app.embed.base import Embedder, EmbedderError, load_embedder

__all__ = ["Embedder", "EmbedderError", "load_embedder"]

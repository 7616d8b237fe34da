"""Dossier: an on-premises document analyst.

The package is a headless core (everything except ``app.gui``) plus a thin Qt GUI.
Nothing under ``app`` except ``app.gui`` may import Qt, and heavy libraries
(torch, transformers, chromadb, llama_cpp) are imported lazily inside functions.
"""

__version__ = "0.1.0"

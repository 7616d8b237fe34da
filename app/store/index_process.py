"""The embedding model and the Chroma store in a helper process (the desktop app uses this).

Why: Chroma's Rust ``upsert`` holds the GIL for 40-130 ms per call (more as the index grows,
bench/README.md), and importing torch, transformers and chromadb holds it for up to ~0.5 s
at a time. In the process that runs the Qt event loop, every such stretch is a frozen
window. Here they run in one child process; the app's threads only wait on a pipe (which
releases the GIL), so the window keeps painting while documents are indexed.

The parent talks to the child through :class:`ProcessEmbedder` and :class:`ProcessVectorIndex`,
which have the methods of an ``Embedder`` and of :class:`app.store.vectors.VectorIndex`.
``VectorIndex(path, ...)`` itself returns a :class:`ProcessVectorIndex` for a folder that
was registered with :func:`enable_for` (see ``VectorIndex.__new__``), so the library, the
ingest pipeline and retrieval need no changes. One child serves every registered folder;
calls are serialised (one request at a time on one pipe). If the child dies, the call
fails with a :class:`StoreError` and the next call starts a fresh child.

The child runs at a lower CPU priority than the app (``os.nice``), exits when the parent's
end of the pipe closes (also when the app is killed) and never needs the network.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from app import child_processes
from app.errors import DossierError, StoreError
from app.types import CancelToken, Chunk, ProgressFn

if TYPE_CHECKING:  # numpy loads with the first call, not with the window (start-up time)
    import numpy as np

log = logging.getLogger(__name__)

NICE = 5  # background work: the app's own threads come first
_registered: dict[str, int] = {}  # resolved chroma folder -> how many users asked for the helper
_reg_lock = threading.Lock()


def _key(path: str | os.PathLike[str]) -> str:
    return str(Path(path).expanduser().resolve())


def enable_for(chroma_dir: str | os.PathLike[str]) -> None:
    """From now on, ``VectorIndex(chroma_dir, ...)`` in this process runs in the helper."""
    with _reg_lock:
        k = _key(chroma_dir)
        _registered[k] = _registered.get(k, 0) + 1


def disable_for(chroma_dir: str | os.PathLike[str]) -> None:
    """Undo one :func:`enable_for`; the helper process stops when no folder uses it."""
    with _reg_lock:
        k = _key(chroma_dir)
        n = _registered.get(k, 0) - 1
        if n > 0:
            _registered[k] = n
        else:
            _registered.pop(k, None)
        idle = not _registered
    if idle:
        helper().stop()


def is_enabled(chroma_dir: str | os.PathLike[str]) -> bool:
    with _reg_lock:
        return bool(_registered) and _key(chroma_dir) in _registered


class IndexHelper:
    """One child process holding embedders and vector indexes, called by (key, method)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Any = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def call(self, key: tuple, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._proc is None or not self._proc.is_alive():
                self._start()
            try:
                self._conn.send((key, method, args, kwargs))
                status, payload = self._conn.recv()  # blocks in C with the GIL released
            except (EOFError, OSError) as err:
                code = self._proc.exitcode if self._proc is not None else None
                self._reset()
                raise StoreError(f"The indexing helper process stopped unexpectedly (exit code {code}) while "
                                 f"it was asked to {method.replace('_', ' ')}. Try again; if it keeps "
                                 "happening, see the log file in the data folder.") from err
        if status == "err":
            raise payload
        return payload

    def _start(self) -> None:
        self._reset()
        ctx = mp.get_context("spawn")  # never fork a process that holds Qt or torch threads
        parent, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_serve, args=(child,), name="dossier-index", daemon=True)
        child_processes.start(proc)
        child.close()
        self._proc, self._conn = proc, parent
        log.info("index helper process started (pid %s)", proc.pid)

    def _reset(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.join(2)  # it exits on EOF
            if self._proc.is_alive():
                self._proc.kill()
                self._proc.join(2)
        self._proc = self._conn = None

    def stop(self) -> None:
        with self._lock:
            self._reset()


_helper = IndexHelper()


def helper() -> IndexHelper:
    return _helper


class ProcessEmbedder:
    """An ``Embedder`` (``load_embedder(spec, threads)``) that lives in the helper process.
    ``identity`` and ``dim`` are fetched once, on first use (that starts the helper)."""

    def __init__(self, spec: str, threads: int = 0) -> None:
        self._key = ("embedder", spec, int(threads))
        self._meta: tuple[str, int] | None = None

    def _info(self) -> tuple[str, int]:
        if self._meta is None:
            self._meta = tuple(_helper.call(self._key, "__meta__"))  # type: ignore[assignment]
        return self._meta  # type: ignore[return-value]

    @property
    def identity(self) -> str:
        return self._info()[0]

    @property
    def dim(self) -> int:
        return self._info()[1]

    def embed(self, texts: list[str], on_progress: ProgressFn | None = None,
              cancel: CancelToken | None = None) -> np.ndarray:
        if cancel is not None:
            cancel.raise_if_cancelled()
        return _helper.call(self._key, "embed", list(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return _helper.call(self._key, "embed_query", text)

    def batch_order(self, texts: list[str]) -> list[int]:
        return _helper.call(self._key, "__batch_order__", list(texts)) if texts else []


class ProcessVectorIndex:
    """:class:`app.store.vectors.VectorIndex`'s methods, served by the helper process."""

    def __init__(self, path: str | os.PathLike[str], collection: str) -> None:
        self.path = Path(path)
        self.collection = collection
        self._key = ("vectors", str(self.path), collection)
        _helper.call(self._key, "__open__")  # fail here, like VectorIndex(), if it cannot open

    def count(self) -> int:
        return int(_helper.call(self._key, "count"))

    def add(self, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        import numpy as np

        _helper.call(self._key, "add", list(chunks), np.asarray(embeddings, dtype=np.float32))

    def query(self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
        import numpy as np

        return _helper.call(self._key, "query", np.asarray(vector, dtype=np.float32), k, doc_ids)

    def delete_document(self, doc_id: str) -> None:
        _helper.call(self._key, "delete_document", doc_id)

    def doc_ids(self) -> set[str]:
        return set(_helper.call(self._key, "doc_ids"))

    def sweep_orphans(self, keep: set[str]) -> int:
        return int(_helper.call(self._key, "sweep_orphans", set(keep)))

    def embeddings_for_document(self, doc_id: str) -> dict[str, np.ndarray]:
        return _helper.call(self._key, "embeddings_for_document", doc_id)

    def close(self) -> None:
        if _helper.pid is not None:
            _helper.call(self._key, "__close__")

    def __enter__(self) -> "ProcessVectorIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- child side -----------------------------------------------------------------------------

def _serve(conn: Any) -> None:
    """The helper's loop (module level, so ``spawn`` can import it). Exits on EOF."""
    try:
        from app.netguard import install_from_env
    except ImportError:  # pragma: no cover - older trees without the network guard
        pass
    else:
        install_from_env()  # embedding and Chroma never need the network
    try:
        os.nice(NICE)
    except OSError:  # pragma: no cover - not permitted: run at normal priority
        pass
    objects: dict[tuple, Any] = {}
    while True:
        try:
            key, method, args, kwargs = conn.recv()
        except (EOFError, OSError):
            break
        try:
            result = _dispatch(objects, key, method, args, kwargs)
            conn.send(("ok", result))
        except BaseException as err:  # noqa: BLE001 - every failure goes back to the caller
            conn.send(("err", _portable(err)))


def _dispatch(objects: dict[tuple, Any], key: tuple, method: str, args: tuple, kwargs: dict) -> Any:
    if method == "__close__":
        obj = objects.pop(key, None)
        if obj is not None and hasattr(obj, "close"):
            obj.close()
        return None
    obj = objects.get(key)
    if obj is None:
        obj = objects[key] = _open(key)
    if method == "__open__":
        return None
    if method == "__meta__":
        return (obj.identity, int(obj.dim))
    if method == "__batch_order__":  # the embedder's own order, or by length (app.embed.base)
        from app.embed.base import batch_order

        return batch_order(obj, *args)
    return getattr(obj, method)(*args, **kwargs)


def _open(key: tuple) -> Any:
    if key[0] == "embedder":
        from app.embed.base import load_embedder

        return load_embedder(key[1], threads=key[2])
    if key[0] == "vectors":
        from app.store.vectors import VectorIndex

        return VectorIndex(Path(key[1]), key[2], _in_process=True)
    raise ValueError(f"unknown helper object {key!r}")


def _portable(err: BaseException) -> BaseException:
    """The error as the parent should see it: Dossier errors as they are (their message says
    what to do), anything else as a StoreError with its text (it may not unpickle there)."""
    if isinstance(err, DossierError):
        try:
            import pickle

            pickle.loads(pickle.dumps(err))
            return err
        except Exception:  # noqa: BLE001 - an error type that does not round-trip
            return StoreError(str(err))
    return StoreError(f"The index helper failed: {type(err).__name__}: {err}. Try again; if it keeps "
                      "happening, see the log file in the data folder.")

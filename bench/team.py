"""Team mode on loopback: ingest through the index server vs local, sync, query latency under load.

Starts a real ``dossier serve-index`` (Chroma 1.x behind Dossier's token proxy) in a temporary
folder, writes ``--docs`` synthetic filings (``--pages`` pages each, every document with its own
figures), then measures:

- ``ingest``: ``Service.ingest`` of the same PDFs into a local data folder and into the server
  (documents/s, chunks/s, seconds);
- ``sync``: a new client's first mirror of the whole index (texts + PDFs) and a no-change sync;
- ``proxy``: one dense query straight to Chroma vs through the proxy (its overhead);
- ``query``: ``Service.search`` (hybrid: local FTS5 mirror + dense on the server) from 1, 4 and 8
  concurrent client *processes*, each with its own data folder, p50/p95 ms and queries/s;
  the same for a local-mode client as the baseline;
- all of it at ``--docs`` documents and again after growing the index ``--grow`` times.

The embedder is the deterministic fake by default (isolates the store and network path;
``--embedder minilm`` for the real one: query latency then adds ~10-30 ms of embedding).

    .venv/bin/python bench/team.py --out bench/results/team.json [--docs 40] [--pages 8] [--grow 4]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TOKEN = "bench-token-" + "x" * 20
QUERIES = ["capital expenditures {n}", "revenue grew in fiscal {y}", "supplier concentration risk",
           "net income per share", "long-term debt maturities {y}", "goodwill impairment charge",
           "lease liabilities", "cash flow from operations {n}"]


def write_docs(folder: Path, start: int, count: int, pages: int) -> list[Path]:
    from app.samples.pdf_writer import write_text_pdf

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for d in range(start, start + count):
        body = [f"Company {d} Holdings Annual Report {2000 + d % 25}\nItem 1. Business\nCompany {d} makes {d * 7}."]
        for p in range(1, pages):
            body.append("\n".join(
                f"Item {p}. Section {p}.{i} Revenue grew {d % 9 + i}% in fiscal {2000 + (d + i) % 25}; capital "
                f"expenditures were ${d * 13 + p * 7 + i:,} million and the supplier concentration risk of unit "
                f"{d}-{p}-{i} remained material." for i in range(9)))
        out.append(write_text_pdf(folder / f"company-{d:04d}.pdf", body, title=f"Company {d} Annual Report"))
    return out


def _embedder(name: str):  # type: ignore[no-untyped-def]
    from app.embed.base import load_embedder

    return load_embedder(name, threads=1)


def _use_token(url: str) -> None:
    import keyring

    sys.path.insert(0, str(REPO / "tests"))
    from team_helpers import MemoryKeyring  # the bench, like the tests, selects its keyring explicitly

    from app.secrets import set_secret
    from app.store.remote_index import index_secret_name

    keyring.set_keyring(MemoryKeyring())
    set_secret(index_secret_name(url), TOKEN)


def _settings(url: str = ""):  # type: ignore[no-untyped-def]
    from app.settings import Settings

    s = Settings()
    s.index_server_url = url
    s.index_sync_interval_s = 3600.0  # measure queries, not the (cheap, throttled) sync checks
    return s


def ingest(data_dir: Path, url: str, files: list[Path], embedder: str) -> dict[str, float]:
    from app.service import Service

    with Service(data_dir, _settings(url), embedder=_embedder(embedder)) as svc:
        svc.documents()
        svc.library.embedder.embed(["warm-up"])  # loading the model is not ingest throughput
        t0 = time.perf_counter()
        summary = svc.ingest(files)
        s = time.perf_counter() - t0
        assert summary.ok, summary.to_dict()
        chunks = sum(d.chunk_count for d in summary.added)
        return {"documents": len(summary.added), "chunks": chunks, "seconds": round(s, 2),
                "docs_per_s": round(len(summary.added) / s, 2), "chunks_per_s": round(chunks / s, 1)}


def _query_worker(url: str, data_dir: str, n: int, seed: int, embedder: str, barrier: Any, out: Any) -> None:
    from app.service import Service

    if url:
        _use_token(url)
    with Service(data_dir, _settings(url), embedder=_embedder(embedder)) as svc:
        svc.documents()  # the first sync (mirror) happens before the clock starts
        svc.search("warm up", k=8)
        barrier.wait(600)  # all clients start querying together
        lat = []
        for i in range(n):
            q = QUERIES[(seed + i) % len(QUERIES)].format(n=f"{(seed * 31 + i * 17) % 9000:,}", y=2000 + i % 25)
            t0 = time.perf_counter()
            svc.search(q, k=8)
            lat.append((time.perf_counter() - t0) * 1000)
        out.put(lat)


def query_load(url: str, data_dirs: list[Path], clients: int, n: int, embedder: str) -> dict[str, float]:
    """``clients`` processes (own Service, own data folder) each running ``n`` hybrid searches."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(clients + 1), ctx.Queue()
    procs = [ctx.Process(target=_query_worker, args=(url, str(data_dirs[i]), n, i, embedder, barrier, out))
             for i in range(clients)]
    for p in procs:
        p.start()
    barrier.wait(600)
    t0 = time.perf_counter()
    runs = [out.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join(60)
    lat = sorted(x for r in runs for x in r)
    return {"clients": clients, "queries": len(lat), "p50_ms": round(statistics.median(lat), 1),
            "p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 1), "max_ms": round(lat[-1], 1),
            "queries_per_s": round(len(lat) / wall, 1)}


def sync_new_client(url: str, data_dir: Path) -> dict[str, float]:
    from app.service import Service

    with Service(data_dir, _settings(url), embedder=_embedder("fake")) as svc:
        t0 = time.perf_counter()
        report = svc.refresh()
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        svc.refresh()
        again = time.perf_counter() - t0
        return {"documents": len(report.added), "first_sync_s": round(first, 2),
                "docs_per_s": round(len(report.added) / first, 1), "no_change_sync_ms": round(again * 1000, 1)}


def proxy_overhead(url: str, chroma_port: int, embedder: str, n: int = 200) -> dict[str, float]:
    """Dense query (k=50) through the proxy vs straight to Chroma's private port."""
    import numpy as np

    from app.store.remote_index import IndexServerClient
    from app.store.team_index import TeamIndex

    out = {}
    emb = _embedder(embedder)
    vec = emb.embed_query("capital expenditures 1,234")
    identity = f"{emb.identity}|{_settings().chunking.identity()}".replace("-bf16", "").replace("-fp32", "")
    for name, target, token in (("via_proxy", url, TOKEN), ("direct_chroma", f"http://127.0.0.1:{chroma_port}", None)):
        client = IndexServerClient(target, token=token)
        vectors = TeamIndex(client, "default").vectors(identity)
        vectors.query(vec, 50)
        lat = []
        for _ in range(n):
            t0 = time.perf_counter()
            vectors.query(np.asarray(vec), 50)
            lat.append((time.perf_counter() - t0) * 1000)
        client.close()
        lat.sort()
        out[name] = {"p50_ms": round(statistics.median(lat), 2), "p95_ms": round(lat[int(0.95 * (n - 1))], 2)}
    return out


def start_server(folder: Path) -> tuple[subprocess.Popen, str, int]:
    sys.path.insert(0, str(REPO / "tests"))
    from team_helpers import free_port

    port = free_port()
    env = dict(os.environ, DOSSIER_INDEX_TOKEN=TOKEN, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "app.cli.main", "serve-index", "--path", str(folder), "--port",
                             str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    m = re.search(r"Chroma on 127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"serve-index did not start: {line}")
    return proc, f"http://127.0.0.1:{port}", int(m.group(1))


def measure_size(url: str, tmp: Path, tag: str, args: argparse.Namespace, chroma_port: int) -> dict[str, Any]:
    res: dict[str, Any] = {"sync": sync_new_client(url, tmp / f"sync-{tag}")}
    res["proxy"] = proxy_overhead(url, chroma_port, args.embedder)
    res["query_team"] = []
    for clients in args.clients:
        dirs = [tmp / f"q-{tag}-{i}" for i in range(clients)]
        res["query_team"].append(query_load(url, dirs, clients, args.queries, args.embedder))
        print(f"[{tag}] team {res['query_team'][-1]}", flush=True)
    res["query_local_1"] = query_load("", [tmp / "local"], 1, args.queries, args.embedder)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--grow", type=int, default=4, help="second measurement at docs * grow documents (1 = skip)")
    ap.add_argument("--queries", type=int, default=60, help="per client")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    ap.add_argument("--embedder", default="fake")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dossier-team-bench-"))
    proc, url, chroma_port = start_server(tmp / "server")
    _use_token(url)
    result: dict[str, Any] = {"machine": f"{platform.machine()} {os.cpu_count()} cores (shared with other work)",
                              "load_avg_start": os.getloadavg()[0], "embedder": args.embedder,
                              "pages_per_doc": args.pages, "sizes": {}}
    try:
        files = write_docs(tmp / "pdfs", 0, args.docs, args.pages)
        result["ingest"] = {"local": ingest(tmp / "local", "", files, args.embedder),
                            "team": ingest(tmp / "uploader", url, files, args.embedder)}
        print(f"ingest {result['ingest']}", flush=True)
        result["sizes"][str(args.docs)] = measure_size(url, tmp, str(args.docs), args, chroma_port)
        if args.grow > 1:
            more = write_docs(tmp / "pdfs", args.docs, args.docs * (args.grow - 1), args.pages)
            result["ingest_grow"] = {"local": ingest(tmp / "local", "", more, args.embedder),
                                     "team": ingest(tmp / "uploader", url, more, args.embedder)}
            n = args.docs * args.grow
            result["sizes"][str(n)] = measure_size(url, tmp, str(n), args, chroma_port)
        result["load_avg_end"] = os.getloadavg()[0]
        result["server_folder_mb"] = round(sum(f.stat().st_size for f in (tmp / "server").rglob("*")
                                               if f.is_file()) / 1e6, 1)
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(tmp, ignore_errors=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

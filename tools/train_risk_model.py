"""Train the shipped clause model (resources/taxonomy/risk_model.npz) on all CUAD dev contracts.

    .venv/bin/python tools/train_risk_model.py [--data DIR] [--cache-dir DIR] [--out FILE]

Same features, labels and training as bench/risks.py (whose numbers come from k-fold
cross-validation, never from this all-data model).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.risks.model import DEFAULT_MODEL_PATH  # noqa: E402
from app.risks.taxonomy import load_taxonomy  # noqa: E402
from bench.risks import DEFAULT_DATA, make_model, prepare  # noqa: E402
from bench.risks_ingest import build_cache  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "bench_risks")
    ap.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in (args.data / "contracts.jsonl").open(encoding="utf-8")]
    taxonomy = load_taxonomy()
    cache = build_cache(rows, args.data, args.cache_dir)
    _, docs = prepare(rows, cache, taxonomy)
    pipeline = ",".join(sorted({e["pipeline"] for e in cache.values()}))
    model = make_model(docs, taxonomy, trained_on=f"{len(docs)} CUAD contracts ({pipeline}), taxonomy {taxonomy.version}")
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB) from {len(docs)} contracts; "
          f"{len(model.vocab)} terms, {int((model.w_terms != 0).sum())} term weights")
    return 0


if __name__ == "__main__":
    sys.exit(main())

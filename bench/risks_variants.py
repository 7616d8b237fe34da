"""Variants of the clause model, on the same 5-fold protocol as bench/risks.py: what was tried to
close the gap to the 0.80 macro document F1 target, so the next attempt starts from numbers.

    .venv/bin/python bench/risks_variants.py --cache-dir /tmp/risks_cache --out /tmp/variants.json \\
        [--config '{"l2": 3e-5}'] [--sentence-vectors] [--knn]

One run trains the sentence model per outer fold exactly as ``app.risks.train.train`` does
(``--config`` overrides its settings; ``--sentence-vectors`` appends each sentence's own MiniLM
vector to its features), keeps every training contract's *out-of-fold* sentence scores (the
inner folds) and the held-out contracts' scores, and then compares document decisions on them:

- ``shipped``: the decision ``train`` ships (3 document features, C=1, cut-off F1*/2); with
  the default config this equals bench/risks.py's ``dossier`` macro F1;
- ``nested_c``: the decision's regularisation C chosen per outer fold by an inner 5-fold CV
  on the training contracts alone (0.3 / 1 / 3 / 10);
- ``more_features``: + second-best sentence logit and log of the top-3 sentence probabilities;
- ``exemplars``: + the best tf-idf cosine between any sentence and the positive sentences of
  the category in the training contracts (a nearest-exemplar signal beside the linear model);
- ``cross_category``: + the best sentence logit of the category whose presence correlates most
  with this one's in the training contracts (e.g. Competitive Restriction Exception beside
  Non-Compete or Exclusivity: an exception needs a restriction to except from).
- ``knn_vote`` (with ``--knn``, stop 12): + the best, over the contract's sentences, of the share
  of a sentence's 10 nearest training sentences (MiniLM cosine; other contracts only) that are
  labelled with the category: a semantic nearest-neighbour signal beside the lexical model.

Macro over the categories with >= 10 positive contracts, as in bench/risks.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.risks.lexical import tfidf  # noqa: E402
from app.risks.model import CUE_FLOOR, NO_SCORE  # noqa: E402
from app.risks.taxonomy import load_taxonomy  # noqa: E402
from app.risks.train import Config, TrainDoc, _scored, build_vocab, f1, fit_decision, folds  # noqa: E402
from bench.report import emit  # noqa: E402
from bench.risks import DEFAULT_DATA, MIN_POSITIVES, make_model, prepare  # noqa: E402
from bench.risks_ingest import build_cache  # noqa: E402

Logits = tuple[np.ndarray, np.ndarray]  # (sentences x categories) logits, cue hits


def with_sentence_vectors(docs: list[TrainDoc], vectors: list[np.ndarray]) -> list[TrainDoc]:
    """Each sentence's MiniLM vector appended to its cue columns (the model learns a weight per
    column; the first columns stay the categories' cue groups, so cue hits are unchanged)."""
    return [TrainDoc(d.terms, np.hstack([d.cues, v]).astype(np.float32), d.y, d.present) for d, v in zip(docs, vectors)]


def sentence_vectors(cache: dict[str, Any], rows: list[dict[str, Any]]) -> list[np.ndarray]:
    """Each contract's sentences (app.risks.lexical units) as MiniLM vectors (unit length)."""
    from app.embed import load_embedder
    from app.risks.lexical import unit_text, units_of

    emb = load_embedder("minilm")
    out = []
    for row in rows:
        chunks = cache[row["id"]]["chunks"]
        texts = [unit_text(chunks, u) for u in units_of(chunks)]
        out.append(emb.embed(texts) if texts else np.zeros((0, emb.dim), np.float32))
    return out


def knn_votes(vectors: list[np.ndarray], docs: list[TrainDoc], pool: list[int], targets: list[int],
              k: int = 10) -> dict[int, np.ndarray]:
    """Per target contract, (sentences x categories): the share of each sentence's ``k`` most
    similar sentences among the ``pool`` contracts (never its own) labelled with the category."""
    owner = np.concatenate([np.full(len(vectors[i]), i) for i in pool])
    pv = np.vstack([vectors[i] for i in pool])
    py = np.vstack([docs[i].y for i in pool]).astype(np.float32)
    out = {}
    for t in targets:
        if not len(vectors[t]):
            out[t] = np.zeros((0, py.shape[1]), np.float32)
            continue
        sim = vectors[t] @ pv.T
        sim[:, owner == t] = -2.0
        nearest = np.argpartition(-sim, k, 1)[:, :k]
        out[t] = py[nearest].mean(1)
    return out


def exemplar_features(targets: list[TrainDoc], examples: list[TrainDoc], k: int) -> list[np.ndarray]:
    """(categories,) per target: best tf-idf cosine of any of its sentences to any positive
    sentence of the category in ``examples`` (vocabulary from the examples)."""
    import scipy.sparse as sp

    vocab, idf = build_vocab(examples, 2)
    index = {t: i for i, t in enumerate(vocab)}

    def matrix(d: TrainDoc) -> Any:
        x = tfidf(d.terms, index, idf)
        return sp.csr_matrix((x.data, x.indices, x.indptr), shape=(x.rows, len(index)))

    mats = [matrix(d) for d in examples]
    positives = []
    for j in range(k):
        rows = [m[np.flatnonzero(d.y[:, j] > 0)] for m, d in zip(mats, examples) if d.y[:, j].any()]
        positives.append(sp.vstack(rows).T.tocsc() if rows else None)
    out = []
    for d in targets:
        m = matrix(d)
        out.append(np.array([(m @ p).max() if p is not None and m.shape[0] else 0.0 for p in positives], np.float32))
    return out


def partners(ytr: np.ndarray) -> np.ndarray:
    """(categories,) for each category, the other category whose presence correlates most with
    its own in the training contracts."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cc = np.nan_to_num(np.corrcoef(ytr.T.astype(np.float64)))
    np.fill_diagonal(cc, 0.0)
    return np.abs(cc).argmax(1)


def features(logits: Logits, extra: str, exemplar: np.ndarray | None, partner: np.ndarray | None = None,
             votes: np.ndarray | None = None) -> np.ndarray:
    """(categories x n) document features: the shipped three, plus the variant's."""
    lg, hits = logits
    masked = np.where(hits, lg, NO_SCORE)
    cols = [lg.max(0), np.maximum(masked.max(0), CUE_FLOOR), np.log1p(hits.sum(0))]
    if extra == "more_features":
        top = np.sort(lg, 0)[::-1]
        cols += [top[min(1, len(top) - 1)], np.log(1e-6 + (1 / (1 + np.exp(-top[:3]))).sum(0))]
    if extra == "exemplars" and exemplar is not None:
        cols.append(exemplar)
    if extra == "cross_category" and partner is not None:
        cols.append(cols[0][partner])
    if extra == "knn_vote" and votes is not None:
        cols.append(votes.max(0) if len(votes) else np.zeros(lg.shape[1], np.float32))
    return np.stack(cols, 1)


def decide(xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, c: float) -> np.ndarray:
    """Held-out decisions of the per-category regression fitted as train() fits it."""
    decision, _ = fit_decision(xtr, ytr, c)
    return np.stack([decision.probability(x) >= decision.tau for x in xte])


def macro(pred: np.ndarray, truth: np.ndarray, cats: list[int]) -> float:
    return float(np.mean([f1(pred[:, j], truth[:, j]) for j in cats]))


def nested_c(xtr: np.ndarray, ytr: np.ndarray, choices: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0)) -> float:
    cats = [j for j in range(ytr.shape[1]) if ytr[:, j].sum() >= 8]
    score = {}
    for c in choices:
        pred = np.zeros_like(ytr)
        for held in folds(len(ytr), 5, 7):
            fit = np.ones(len(ytr), bool)
            fit[held] = False
            pred[held] = decide(xtr[fit], ytr[fit], xtr[held], c)
        score[c] = macro(pred, ytr, cats)
    return max(choices, key=lambda c: score[c])


def run(args: argparse.Namespace) -> dict[str, Any]:
    rows = [json.loads(line) for line in (args.data / "contracts.jsonl").open(encoding="utf-8")]
    taxonomy = load_taxonomy()
    cache = build_cache(rows, args.data, args.cache_dir)
    _, docs = prepare(rows, cache, taxonomy)
    vectors = sentence_vectors(cache, rows) if args.knn or args.sentence_vectors else None
    if args.sentence_vectors:
        docs = with_sentence_vectors(docs, vectors)
    cfg = Config(**json.loads(args.config))
    truth = np.vstack([d.present for d in docs])
    k = truth.shape[1]
    scored = [j for j in range(k) if truth[:, j].sum() >= MIN_POSITIVES]
    names = ("shipped", "nested_c", "more_features", "exemplars", "cross_category") + (("knn_vote",) if args.knn else ())
    variants: dict[str, np.ndarray] = {v: np.zeros_like(truth) for v in names}
    chosen_c = []
    for n, held in enumerate(folds(len(docs), args.folds)):
        t0 = time.time()
        train_ids = [i for i in range(len(docs)) if i not in set(held.tolist())]
        tdocs = [docs[i] for i in train_ids]
        oof: dict[int, Logits] = {}
        exemplar: dict[int, np.ndarray] = {}

        def record(inner: np.ndarray, fold_model: Any) -> None:
            rest = [tdocs[i] for i in range(len(tdocs)) if i not in set(inner.tolist())]
            for i, ex in zip(inner, exemplar_features([tdocs[i] for i in inner], rest, k)):
                s = _scored(tdocs[i], fold_model)
                oof[int(i)], exemplar[int(i)] = (s.logits, s.cue_hits), ex

        model = make_model(tdocs, taxonomy, cfg=cfg, on_fold=record)
        test = {int(i): _scored(docs[i], model) for i in held}
        test_ex = dict(zip((int(i) for i in held), exemplar_features([docs[i] for i in held], tdocs, k)))
        ytr = truth[train_ids]
        pair = partners(ytr)
        votes = knn_votes(vectors or [], docs, train_ids, train_ids + [int(i) for i in held]) if args.knn else {}
        for name in names:
            extra = "" if name in ("shipped", "nested_c") else name
            xtr = np.stack([features(oof[i], extra, exemplar[i], pair, votes.get(train_ids[i]))
                            for i in range(len(tdocs))])
            xte = np.stack([features((test[i].logits, test[i].cue_hits), extra, test_ex[i], pair, votes.get(i))
                            for i in held])
            if name == "shipped":  # the decision train() fitted and ships
                p = np.stack([model.decision.probability(x) >= model.decision.tau for x in xte])
            else:
                c = nested_c(xtr, ytr) if name == "nested_c" else cfg.decision_c
                chosen_c += [c] if name == "nested_c" else []
                p = decide(xtr, ytr, xte, c)
            variants[name][held] = p
        print(f"fold {n + 1}/{args.folds} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    return {"config": json.loads(args.config), "sentence_vectors": args.sentence_vectors, "knn": args.knn,
            "n_contracts": len(docs),
            "n_categories": len(scored), "nested_c_chosen": chosen_c,
            "macro_doc_f1": {v: round(macro(p, truth, scored), 4) for v, p in variants.items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--cache-dir", type=Path, default=ROOT / ".cache" / "bench_risks")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--config", default="{}", help="JSON overrides of app.risks.train.Config")
    ap.add_argument("--sentence-vectors", action="store_true")
    ap.add_argument("--knn", action="store_true", help="also the knn_vote variant (embeds every sentence, ~1 min)")
    args = ap.parse_args(argv)
    if not (args.data / "contracts.jsonl").exists():
        print(f"No CUAD data at {args.data}", file=sys.stderr)
        return 2
    emit(run(args), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The risk taxonomy: data (``resources/taxonomy/default.json``), optionally overridden by a
user playbook of the same schema.

Why data and not code: reviewers tune severities, cue phrases and rules per client without a
release. A playbook category with an existing id replaces fields of that category, a new id
adds a category, ``"enabled": false`` switches one off. ``Taxonomy.version`` combines the
file version with a hash of the merged content and of the shipped clause model, so cached
reviews are invalidated whenever the playbook or the model changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.errors import DossierError
from app.paths import RESOURCES

DEFAULT_PATH = RESOURCES / "taxonomy" / "default.json"
SEVERITIES = ("high", "medium", "low", "info")
GROUPS = ("contract", "filing", "any")
VALUE_KINDS = ("date", "jurisdiction", "duration", "notice_period", "amount")
RULE_KEYS = {"value_min_days": (int, float), "value_max_days": (int, float), "value_min_amount": (int, float),
             "value_max_amount": (int, float), "jurisdiction_in": list, "severity": str}
REQUIRED = {"id": str, "name": str, "group": str, "description": str, "severity": str}
OPTIONAL: dict[str, Any] = {"why_it_matters": str, "cues": list, "absence_is_risk": bool, "value": str,
                            "rule": dict, "examples": list, "enabled": bool, "exclude": list}


class TaxonomyError(DossierError):
    """A taxonomy or playbook file is not valid; the message names file, category and field."""


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    group: str  # "contract" | "filing" | "any"
    description: str
    severity: str
    why_it_matters: str = ""
    cues: tuple[str, ...] = ()
    absence_is_risk: bool = False
    value: str = ""  # value extraction kind, "" = none
    rule: dict[str, Any] = field(default_factory=dict)
    examples: tuple[str, ...] = ()
    enabled: bool = True
    #: patterns that veto a cue match in the same sentence (boilerplate, negation, hypotheticals:
    #: "no material weakness", "we test goodwill for impairment annually")
    exclude: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cues"], d["examples"], d["exclude"] = list(self.cues), list(self.examples), list(self.exclude)
        return d


@dataclass(frozen=True)
class Taxonomy:
    version: str
    categories: tuple[Category, ...]

    def get(self, cat_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == cat_id), None)

    def enabled(self, groups: tuple[str, ...] | None = None) -> list[Category]:
        return [c for c in self.categories if c.enabled and (groups is None or c.group in groups)]


def _fail(src: str, where: str, msg: str) -> TaxonomyError:
    return TaxonomyError(f"Risk taxonomy {src}: {where}: {msg}. Fix the file (or remove it from "
                         "Settings > Risk playbook) and run the review again.")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(str(path), "file", "not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(str(path), "file", f"cannot be read ({e})") from None
    except json.JSONDecodeError as e:
        raise _fail(str(path), f"line {e.lineno} column {e.colno}", f"invalid JSON ({e.msg})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("categories"), list):
        raise _fail(str(path), "top level", 'expected an object with a "categories" list')
    return raw


def _check_fields(src: str, d: Any, i: int, partial: bool) -> str:
    """Type-check one category dict; return its id. ``partial`` allows override-only entries."""
    if not isinstance(d, dict):
        raise _fail(src, f"categories[{i}]", "expected an object")
    cid = d.get("id")
    if not isinstance(cid, str) or not re.fullmatch(r"[a-z0-9_\-]+", cid or ""):
        raise _fail(src, f"categories[{i}] field 'id'", "missing, or not lower-case letters/digits/_/-")
    where = f"category '{cid}'"
    for key, typ in REQUIRED.items():
        if key not in d and not partial:
            raise _fail(src, where, f"missing required field '{key}'")
    for key, value in d.items():
        typ = REQUIRED.get(key) or OPTIONAL.get(key)
        if typ is None:
            raise _fail(src, f"{where} field '{key}'", "unknown field")
        if not isinstance(value, typ):
            raise _fail(src, f"{where} field '{key}'", f"expected {typ.__name__}, got {type(value).__name__}")
    _check_values(src, where, d)
    return cid


def _check_values(src: str, where: str, d: dict[str, Any]) -> None:
    if "severity" in d and d["severity"] not in SEVERITIES:
        raise _fail(src, f"{where} field 'severity'", f"'{d['severity']}' is not one of {', '.join(SEVERITIES)}")
    if "group" in d and d["group"] not in GROUPS:
        raise _fail(src, f"{where} field 'group'", f"'{d['group']}' is not one of {', '.join(GROUPS)}")
    if d.get("value") and d["value"] not in VALUE_KINDS:
        raise _fail(src, f"{where} field 'value'", f"'{d['value']}' is not one of {', '.join(VALUE_KINDS)}")
    for key in ("cues", "exclude"):
        for j, cue in enumerate(d.get(key, [])):
            if not isinstance(cue, str):
                raise _fail(src, f"{where} field '{key}'[{j}]", "expected a string (a regular expression)")
            try:
                re.compile(cue)
            except re.error as e:
                raise _fail(src, f"{where} field '{key}'[{j}]", f"invalid regular expression ({e})") from None
    for j, ex in enumerate(d.get("examples", [])):
        if not isinstance(ex, str) or not ex.strip():
            raise _fail(src, f"{where} field 'examples'[{j}]", "expected a non-empty example phrase")
    for key, value in d.get("rule", {}).items():
        if key not in RULE_KEYS:
            raise _fail(src, f"{where} field 'rule'", f"unknown rule '{key}' (known: {', '.join(RULE_KEYS)})")
        if not isinstance(value, RULE_KEYS[key]) or isinstance(value, bool):
            raise _fail(src, f"{where} rule '{key}'", "wrong type")
    if d.get("rule", {}).get("severity", "high") not in SEVERITIES:
        raise _fail(src, f"{where} rule 'severity'", "not a severity")


def _to_category(d: dict[str, Any]) -> Category:
    d = dict(d)
    d["cues"] = tuple(d.get("cues", ()))
    d["examples"] = tuple(d.get("examples", ()))
    d["exclude"] = tuple(d.get("exclude", ()))
    return Category(**d)


def _merge(src: str, base: dict[str, dict[str, Any]], raw: dict[str, Any], partial: bool) -> None:
    """Add ``raw``'s categories to ``base``; in a playbook (``partial``) an existing id may
    give only the fields it changes."""
    seen: set[str] = set()
    for i, d in enumerate(raw["categories"]):
        override = partial and isinstance(d, dict) and d.get("id") in base
        cid = _check_fields(src, d, i, partial=override)
        if cid in seen:
            raise _fail(src, f"category '{cid}'", "duplicate id")
        seen.add(cid)
        base[cid] = {**base[cid], **d} if override else dict(d)


def _model_fingerprint() -> bytes:
    """Hash of the shipped clause model file (it decides findings as much as the taxonomy)."""
    model = DEFAULT_PATH.parent / "risk_model.npz"
    try:
        return hashlib.sha256(model.read_bytes()).digest()
    except OSError:
        return b"no-model"


def load_taxonomy(path: str | Path | None = None, playbook: str | Path | None = None) -> Taxonomy:
    """Load the default (or given) taxonomy and merge an optional playbook over it."""
    path = Path(path) if path else DEFAULT_PATH
    raw = _read_json(path)
    cats: dict[str, dict[str, Any]] = {}
    _merge(str(path), cats, raw, partial=False)
    version = str(raw.get("version", "1"))
    if playbook:
        pb = _read_json(Path(playbook))
        _merge(str(playbook), cats, pb, partial=True)
    h = hashlib.sha256(json.dumps(cats, sort_keys=True).encode())
    h.update(_model_fingerprint())  # a retrained clause model must not be served stale cached reviews
    digest = h.hexdigest()[:12]
    return Taxonomy(version=f"{version}+{digest}", categories=tuple(_to_category(d) for d in cats.values()))

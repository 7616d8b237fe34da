import json
from pathlib import Path

import pytest

from app.risks.taxonomy import DEFAULT_PATH, TaxonomyError, load_taxonomy


@pytest.mark.parametrize("text, exclusive", [
    ("Supplier appoints Distributor as its exclusive distributor in the Territory.", True),
    ("Consultant shall work exclusively for the Company during the Term.", True),
    ("Licensor grants an exclusive license to make and sell the Products.", True),
    ("Licensor grants Licensee a non-exclusive, worldwide license.", False),
    ("a NON-EXCLUSIVE, perpetual licence", False),
    ("The courts of Delaware shall have exclusive jurisdiction.", False),
    ("This is Buyer's sole and exclusive remedy for any breach.", False),
    ("THE WARRANTIES ABOVE ARE THE EXCLUSIVE WARRANTIES OF IBM.", False),
    ("All prices are exclusive of value added tax.", False),
])
def test_exclusivity_cues_are_not_fooled_by_its_opposites(text: str, exclusive: bool) -> None:
    """"Non-exclusive" is the opposite of exclusivity, and "exclusive jurisdiction / remedy /
    of taxes" are other clauses: before taxonomy 1.2 each of them counted as an exclusivity cue."""
    from app.risks.cues import cue_count

    cat = load_taxonomy().get("exclusivity")
    assert cat is not None
    assert (cue_count(text, cat.cues) > 0) is exclusive


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def _cat(**kw: object) -> dict:
    d = {"id": "x", "name": "X", "group": "contract", "description": "d", "severity": "low"}
    d.update(kw)
    return d


def test_default_taxonomy_loads() -> None:
    tax = load_taxonomy()
    assert tax.version.startswith("1.2+")
    assert len(tax.enabled(("contract",))) == 41
    ids = {c.id for c in tax.categories}
    for needed in ("going_concern", "material_weakness", "restatement", "auditor_change", "covenant_breach",
                   "impairment", "litigation", "concentration", "related_party", "liquidity_stress",
                   "cyber_incident", "prompt_injection", "governing_law", "cap_on_liability"):
        assert needed in ids
    gl = tax.get("governing_law")
    assert gl is not None and gl.absence_is_risk and gl.value == "jurisdiction"
    assert "CC BY 4.0" in json.loads(DEFAULT_PATH.read_text())["attribution"]


@pytest.mark.parametrize("content, expect", [
    ("{not json", "invalid JSON"),
    ({"categories": [{"id": "x", "name": "X", "group": "contract", "severity": "low"}]}, "missing required field 'description'"),
    ({"categories": [_cat(severity="critical")]}, "'critical' is not one of"),
    ({"categories": [_cat(), _cat()]}, "duplicate id"),
    ({"categories": [_cat(cues=["(unclosed"])]}, "invalid regular expression"),
    ({"categories": [_cat(rule={"value_min_dayz": 3})]}, "unknown rule"),
    ({"nope": 1}, '"categories" list'),
])
def test_bad_files_give_clear_errors(tmp_path: Path, content: object, expect: str) -> None:
    path = _write(tmp_path / "bad.json", content)
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(path)
    msg = str(err.value)
    assert expect in msg and "bad.json" in msg


def test_error_names_category_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.json", {"categories": [_cat(id="my_cat", severity="urgent")]})
    with pytest.raises(TaxonomyError, match=r"category 'my_cat' field 'severity'"):
        load_taxonomy(path)


def test_playbook_override_add_disable_and_version(tmp_path: Path) -> None:
    base = load_taxonomy()
    pb = _write(tmp_path / "pb.json", {"categories": [
        {"id": "governing_law", "severity": "high", "rule": {"jurisdiction_in": ["New York"]}},
        {"id": "non_disparagement", "enabled": False},
        _cat(id="data_protection", name="Data protection", cues=[r"\bpersonal data\b"]),
    ]})
    tax = load_taxonomy(playbook=pb)
    assert tax.version != base.version
    gl = tax.get("governing_law")
    assert gl is not None and gl.severity == "high" and gl.description == base.get("governing_law").description
    assert tax.get("non_disparagement") is not None and not tax.get("non_disparagement").enabled
    assert "non_disparagement" not in {c.id for c in tax.enabled()}
    assert tax.get("data_protection") is not None
    # same playbook -> same version (cache key is stable)
    assert load_taxonomy(playbook=pb).version == tax.version


def test_playbook_new_category_must_be_complete(tmp_path: Path) -> None:
    pb = _write(tmp_path / "pb.json", {"categories": [{"id": "brand_new", "severity": "high"}]})
    with pytest.raises(TaxonomyError, match="brand_new.*missing required field"):
        load_taxonomy(playbook=pb)


def test_missing_playbook_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(playbook=tmp_path / "nope.json")


def test_exclude_patterns_are_validated(tmp_path: Path) -> None:
    path = _write(tmp_path / "x.json", {"categories": [_cat(cues=["ok"], exclude=["(bad"])]})
    with pytest.raises(TaxonomyError, match=r"field 'exclude'\[0\].*invalid regular expression"):
        load_taxonomy(path)
    path = _write(tmp_path / "y.json", {"categories": [_cat(examples=[""])]})
    with pytest.raises(TaxonomyError, match="non-empty example"):
        load_taxonomy(path)
    tax = load_taxonomy(_write(tmp_path / "z.json", {"categories": [_cat(cues=["a"], exclude=["no a"])]}))
    assert tax.categories[0].exclude == ("no a",)


def test_version_follows_the_clause_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.risks.taxonomy as taxonomy

    folder = tmp_path / "taxonomy"
    folder.mkdir()
    (folder / "default.json").write_text(DEFAULT_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(taxonomy, "DEFAULT_PATH", folder / "default.json")
    no_model = load_taxonomy().version
    (folder / "risk_model.npz").write_bytes(b"model one")
    one = load_taxonomy().version
    (folder / "risk_model.npz").write_bytes(b"model two")
    assert len({no_model, one, load_taxonomy().version}) == 3  # a retrained model misses the review cache

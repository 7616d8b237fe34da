"""Playbook rules on extracted values ("notice period >= 60 days", "cap >= $1M",
"governing law in New York or Delaware") and the one-line rationales shown to the user."""

from __future__ import annotations

from typing import Any

from app.risks.taxonomy import SEVERITIES, Category


def raise_severity(severity: str) -> str:
    i = SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES) - 1
    return SEVERITIES[max(0, i - 1)]


def check_rule(rule: dict[str, Any], value: dict[str, Any] | None) -> str:
    """Why the value breaks the rule ("" when it complies or cannot be judged)."""
    if not rule or not value:
        return ""
    days, amount, jur = value.get("days"), value.get("amount"), value.get("jurisdiction")
    if days is not None and "value_min_days" in rule and days < rule["value_min_days"]:
        return f"{value.get('text', days)} is shorter than the playbook minimum of {rule['value_min_days']} days"
    if days is not None and "value_max_days" in rule and days > rule["value_max_days"]:
        return f"{value.get('text', days)} is longer than the playbook maximum of {rule['value_max_days']} days"
    if amount is not None and "value_min_amount" in rule and amount < rule["value_min_amount"]:
        return f"{value.get('text', amount)} is below the playbook minimum of {rule['value_min_amount']:,.0f}"
    if amount is not None and "value_max_amount" in rule and amount > rule["value_max_amount"]:
        return f"{value.get('text', amount)} is above the playbook maximum of {rule['value_max_amount']:,.0f}"
    if jur and "jurisdiction_in" in rule and jur.lower() not in {j.lower() for j in rule["jurisdiction_in"]}:
        return f"{jur} is not an accepted jurisdiction ({', '.join(rule['jurisdiction_in'])})"
    return ""


def apply_rule(cat: Category, value: dict[str, Any] | None) -> tuple[str, bool, str]:
    """(severity, violated, note): a violated rule raises severity (to rule["severity"] or one step)."""
    note = check_rule(cat.rule, value)
    if not note:
        return cat.severity, False, ""
    return cat.rule.get("severity") or raise_severity(cat.severity), True, note


def _value_text(value: dict[str, Any] | None) -> str:
    if not value:
        return ""
    text = value.get("iso") or value.get("text") or ""
    return f" Value: {text}." if text else ""


def present_rationale(cat: Category, value: dict[str, Any] | None, note: str = "") -> str:
    why = cat.why_it_matters or cat.description
    base = f"{cat.name} clause found: {why}"
    if note:
        return f"{base} Playbook rule broken: {note}.{_value_text(value)}"
    return base + _value_text(value)


def missing_rationale(cat: Category) -> str:
    return f"No {cat.name} clause found: {cat.why_it_matters or cat.description}"

import pytest

from app.risks.rules import apply_rule, check_rule
from app.risks.taxonomy import load_taxonomy
from app.risks.values import extract_value, parse_dates, parse_durations


@pytest.mark.parametrize("text, days", [
    ("unless either party gives notice of non-renewal at least sixty (60) days prior to the end of the term", 60),
    ("upon ninety (90) days' prior written notice", 90),
    ("written notice given not less than 3 months before expiry", 90),
    ("thirty days notice", 30),
])
def test_notice_periods(text: str, days: int) -> None:
    v = extract_value("notice_period", text)
    assert v is not None and v["days"] == days


def test_renewal_term() -> None:
    v = extract_value("duration", "This Agreement shall automatically renew for successive one (1) year periods.")
    assert v == {"kind": "duration", "text": "one (1) year", "days": 365, "number": 1, "unit": "year", "successive": True}
    v = extract_value("duration", "may be extended for an additional two (2) year term")
    assert v is not None and v["days"] == 730


@pytest.mark.parametrize("text, jur", [
    ("This Agreement shall be governed by the laws of the State of New York, without regard to", "New York"),
    ("governed by and construed in accordance with the laws of England and Wales", "England and Wales"),
    ("The laws of the Province of Ontario and the federal laws of Canada apply", "Ontario"),
    ("subject to the laws of Delaware. Venue in California courts.", "Delaware"),
])
def test_governing_law(text: str, jur: str) -> None:
    v = extract_value("jurisdiction", text)
    assert v is not None and v["jurisdiction"] == jur


def test_caps() -> None:
    v = extract_value("amount", "In no event shall either party's aggregate liability exceed $1,500,000.")
    assert v is not None and v["amount"] == 1_500_000 and v["currency"] == "USD"
    v = extract_value("amount", "liability shall not exceed US$ 2.5 million in total")
    assert v is not None and v["amount"] == 2_500_000
    v = extract_value("amount", "shall not exceed the fees paid by Customer in the twelve (12) months preceding the claim.")
    assert v is not None and v["amount"] is None and "fees paid" in v["text"]
    assert extract_value("amount", "no numbers here") is None


def test_dates() -> None:
    assert parse_dates("dated as of March 3rd, 2004")[0]["iso"] == "2004-03-03"
    assert parse_dates("made this 21st day of June, 1999")[0]["iso"] == "1999-06-21"
    assert parse_dates("on 6/21/99")[0]["iso"] == "1999-06-21"
    assert extract_value("date", "shall continue in perpetuity")["text"] == "perpetual"
    assert parse_durations("no duration") == []


def test_rules_raise_severity() -> None:
    tax = load_taxonomy()
    cat = tax.get("notice_period_to_terminate_renewal")
    assert cat is not None and cat.rule == {"value_min_days": 30}
    sev, violated, note = apply_rule(cat, {"days": 15, "text": "fifteen (15) days"})
    assert violated and sev == "high" and "30 days" in note
    assert apply_rule(cat, {"days": 60, "text": "60 days"})[1] is False
    assert check_rule({"jurisdiction_in": ["Delaware"]}, {"jurisdiction": "Texas"}).startswith("Texas")
    assert check_rule({"value_max_amount": 10}, {"amount": None}) == ""
    assert check_rule({"value_min_amount": 1e6}, {"amount": 5e5, "text": "$500,000"})

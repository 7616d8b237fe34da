"""The bundled sample document: a short services agreement with a few risky clauses.

Why: on first run the app has nothing to show. A small, known contract lets a new user
try Ask, Summary and Risks at once, and gives tests and screenshots a document whose
text (auto-renewal, uncapped indemnity, governing law, ...) we know exactly.

The PDF is committed under ``resources/samples/``; regenerate it with
``python -m app.samples.sample_docs`` (deterministic: same bytes every time).
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.paths import RESOURCES

SAMPLE_TITLE = "Master Services Agreement - Northwind Analytics and Contoso Retail"
SAMPLE_FILENAME = "sample_services_agreement.pdf"

SAMPLE_PAGES: list[str] = [
    """MASTER SERVICES AGREEMENT

This Master Services Agreement (the "Agreement") is entered into as of March 1, 2024
(the "Effective Date") by and between Northwind Analytics LLC, a Delaware limited
liability company ("Provider"), and Contoso Retail Inc., a New York corporation ("Customer").

1. Services
1.1 Provider shall provide the data analytics services described in each Statement of
Work signed by both parties (the "Services").
1.2 Provider shall perform the Services in a professional manner consistent with
generally accepted industry standards.

2. Fees and Payment
2.1 Customer shall pay Provider a monthly fee of $45,000 for the Services.
2.2 Invoices are due within thirty (30) days of receipt. Late payments bear interest at
1.5% per month.
2.3 Customer commits to a minimum annual spend of $500,000 during each Term year.""",
    """3. Term and Renewal
3.1 The initial term of this Agreement is two (2) years from the Effective Date (the
"Initial Term").
3.2 This Agreement shall automatically renew for successive one (1) year renewal terms
unless either party gives written notice of non-renewal at least ninety (90) days before
the end of the then-current term.
3.3 Provider may increase its fees by up to 8% at the start of each renewal term.

4. Termination
4.1 Either party may terminate this Agreement for material breach that remains uncured
thirty (30) days after written notice.
4.2 Customer may not terminate this Agreement for convenience.

5. Confidentiality
5.1 Each party shall keep the other party's Confidential Information secret and use it
only to perform this Agreement, for five (5) years after termination.""",
    """6. Indemnification
6.1 Customer shall indemnify, defend and hold harmless Provider and its affiliates from
and against any and all claims, losses, damages, liabilities, costs and expenses arising
out of or relating to Customer's use of the Services, without limitation as to amount.
6.2 Provider shall indemnify Customer against third-party claims that the Services
infringe a United States patent.

7. Limitation of Liability
7.1 Provider's total liability under this Agreement shall not exceed the fees paid by
Customer in the three (3) months before the claim.
7.2 The limitation in Section 7.1 does not apply to Customer's obligations under
Section 6.1, which are unlimited.

8. Intellectual Property
8.1 All reports, models and other deliverables created under this Agreement, including
improvements to Customer data, are owned exclusively by Provider.""",
    """9. Governing Law and Disputes
9.1 This Agreement is governed by the laws of the State of Delaware, without regard to its
conflict of laws rules.
9.2 Any dispute shall be resolved exclusively in the state or federal courts located in
Wilmington, Delaware.

10. Assignment
10.1 Customer may not assign this Agreement without Provider's prior written consent.
Provider may assign this Agreement to any affiliate or successor without consent.

11. General
11.1 This Agreement is the entire agreement between the parties about its subject matter.
11.2 Notices must be in writing and sent to the addresses in the signature block.

IN WITNESS WHEREOF, the parties have signed this Agreement as of the Effective Date.
Northwind Analytics LLC            Contoso Retail Inc.
By: Jane Smith, CEO                By: Tom Baker, COO""",
]


def bundled_sample_path() -> Path:
    """The committed sample PDF (may be missing in a stripped install)."""
    return RESOURCES / "samples" / SAMPLE_FILENAME


def write_sample_agreement(path: Path | str) -> Path:
    """Write the sample agreement to ``path`` (deterministic output)."""
    from app.samples.pdf_writer import write_text_pdf

    return write_text_pdf(Path(path), SAMPLE_PAGES, title=SAMPLE_TITLE, font_size=10.5)


def sample_agreement(dest_dir: Path | str) -> Path:
    """A copy of the sample in ``dest_dir`` (the data folder), so the library entry points
    at a file the user owns; written fresh when the committed file is absent."""
    dest = Path(dest_dir) / SAMPLE_FILENAME
    if dest.exists():
        return dest
    src = bundled_sample_path()
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.exists():
        dest.write_bytes(src.read_bytes())
        return dest
    return write_sample_agreement(dest)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else bundled_sample_path()
    print(write_sample_agreement(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The team index server: ``dossier serve-index`` (Chroma behind Dossier's token-checking proxy).

Why a proxy of our own: the Chroma 1.x server (``chroma run``, Rust) has no authentication —
it ignores the ``CHROMA_SERVER_AUTHN_*`` settings of the 0.x Python server and answers every
request. :mod:`app.server.serve` runs it on a private loopback port and puts
:mod:`app.server.proxy` in front, which refuses any request without a valid token and also
stores the documents' PDF files so that every desktop can show highlights on the page.
Standard library only: the server needs nothing beyond what the desktop app installs.
"""

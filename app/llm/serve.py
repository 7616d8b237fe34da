"""Run llama-cpp-python's OpenAI-compatible server with the model settings Dossier needs.

Why: ``python -m llama_cpp.server`` cannot pass ``use_extra_bufts=False`` (it segfaults on
AMX CPUs otherwise), so this wrapper patches llama.cpp's model defaults first and then runs
the stock server with the same command-line options::

    API_KEY=<token> python -m app.llm.serve --model model.gguf --host 0.0.0.0 --port 8080

Pass the token through the ``API_KEY`` environment variable rather than ``--api_key`` so it
does not show in the process list.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from app.llm._worker import disable_extra_bufts

    disable_extra_bufts()
    from llama_cpp.server.__main__ import main as server_main

    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    server_main()


if __name__ == "__main__":
    main()

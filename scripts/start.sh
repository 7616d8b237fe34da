#!/usr/bin/env bash
# Install Dossier into .venv (first run only) and open the app on its bundled default model.
set -euo pipefail
bash "$(dirname "$0")/_venv.sh"
cd "$(dirname "$0")/.."
exec .venv/bin/dossier "$@"

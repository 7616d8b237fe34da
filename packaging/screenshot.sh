#!/usr/bin/env bash
# Screenshots of the real window under Xvfb: sample document, a question asked, the Risks tab.
# Usage: packaging/screenshot.sh [OUT_DIR]   (prints the folder holding the PNGs)
# Uses a fresh temporary data folder (never the user's), the bundled sample document, the
# real embedder and the configured (bundled) model. Installs xvfb with apt-get if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-$(mktemp -d /tmp/dossier-shots.XXXXXX)}"
mkdir -p "$OUT"
if ! command -v xvfb-run >/dev/null 2>&1; then
    apt-get install -y xvfb xauth libxcb-cursor0 libxkbcommon-x11-0 >/dev/null
fi
DATA="$(mktemp -d /tmp/dossier-shot-data.XXXXXX)"
trap 'rm -rf "$DATA"' EXIT
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DOSSIER_DATA_DIR="$DATA"
PY="${PYTHON:-.venv/bin/python}"
xvfb-run -a -s "-screen 0 1600x1000x24" "$PY" -m app.gui.screenshot "$OUT" "$DATA"
echo "Screenshots in: $OUT"

#!/usr/bin/env bash
# Screenshots of the real window under Xvfb: the empty state, the sample document, a question
# answered by the bundled model with a citation clicked (highlight flashing) and hovered, the
# Summary and Risks tabs, the Settings dialog and the dark theme.
# Usage: packaging/screenshot.sh [OUT_DIR]   (prints the folder holding the PNGs; keep them out of git)
# Uses fresh temporary data folders (never the user's), the bundled sample document, the real
# embedder and the bundled model. Installs Xvfb and the X libraries Qt's xcb plugin needs
# with apt-get if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-$(mktemp -d /tmp/dossier-shots.XXXXXX)}"
mkdir -p "$OUT"
PKGS="xvfb xauth libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xkb1 libxcb-xfixes0"
MISSING=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$MISSING" ]; then
    apt-get install -y $MISSING >/dev/null
fi
DATA="$(mktemp -d /tmp/dossier-shot-data.XXXXXX)"
trap 'rm -rf "$DATA" "$DATA-empty"' EXIT
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DOSSIER_DATA_DIR="$DATA"
PY="${PYTHON:-.venv/bin/python}"
xvfb-run -a -s "-screen 0 1600x1000x24" "$PY" -m app.gui.screenshot "$OUT" "$DATA"
echo "Screenshots in: $OUT"

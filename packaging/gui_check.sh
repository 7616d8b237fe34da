#!/usr/bin/env bash
# Open the *built* app under Xvfb (the real xcb platform plugin, not offscreen), time how long
# its first window takes to appear, wait for the sample document to open in the viewer
# (QtPdf), and save a screenshot.
#
#   packaging/gui_check.sh [path/to/dist/dossier/dossier] [OUT_DIR]
#
# Prints "first window after N s" and the PNG's path; look at the PNG: the sample contract
# must be rendered in the viewer (QtPdf works frozen) with the app's icons and fonts.
# Uses a fresh temporary data folder. Installs Xvfb, xdotool and the X libraries Qt's xcb
# plugin needs with apt-get when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
APP="${1:-dist/dossier/dossier}"
OUT="${2:-$(mktemp -d /tmp/dossier-gui-check.XXXXXX)}"
WAIT_S="${DOSSIER_GUI_WAIT_S:-120}"  # at most, for the first-run sample to be indexed
[ -x "$APP" ] || { echo "no built app at $APP (run packaging/build.sh)" >&2; exit 1; }
mkdir -p "$OUT"
PKGS="xvfb xauth xdotool libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xkb1 libxcb-xfixes0"
MISSING=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
[ -z "$MISSING" ] || apt-get install -y $MISSING >/dev/null

DATA="$(mktemp -d /tmp/dossier-gui-data.XXXXXX)"
DISPLAY_NO=$((100 + RANDOM % 400))
Xvfb ":$DISPLAY_NO" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
XVFB=$!
APP_PID=""
cleanup() {
    if [ -n "$APP_PID" ]; then  # the app and its helper processes (own process group, see setsid)
        kill -TERM -- "-$APP_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 -- "-$APP_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$APP_PID" 2>/dev/null || true
        wait "$APP_PID" 2>/dev/null || true
    fi
    kill "$XVFB" 2>/dev/null || true
    rm -rf "$DATA"
}
trap cleanup EXIT
export DISPLAY=":$DISPLAY_NO"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

t0=$(date +%s.%N)
setsid env -i HOME="$HOME" PATH=/usr/bin:/bin LANG=C.UTF-8 DISPLAY="$DISPLAY" QT_QPA_PLATFORM=xcb DOSSIER_DATA_DIR="$DATA" \
    "$APP" > "$OUT/app.log" 2>&1 &
APP_PID=$!
WID=""
for _ in $(seq 600); do
    WID=$(xdotool search --onlyvisible --name 'Dossier' 2>/dev/null | head -1 || true)
    [ -n "$WID" ] && break
    kill -0 "$APP_PID" 2>/dev/null || { cat "$OUT/app.log" >&2; echo "the app exited before showing a window" >&2; exit 1; }
    sleep 0.05
done
[ -n "$WID" ] || { echo "no window after 30 s" >&2; exit 1; }
t1=$(date +%s.%N)
echo "first window after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s: $(xdotool getwindowname "$WID")"
PY="${PYTHON:-.venv/bin/python}"  # sqlite3 to watch the catalog; Pillow (XCB support, as in its wheels) for the grab
# First run: the app adds the bundled sample (parse child, embedder helper, Chroma). Wait until
# the catalog says it is indexed, then give the viewer a moment to open it.
INDEXED="import sqlite3, sys
try:
    n = sqlite3.connect(sys.argv[1]).execute(\"select count(*) from documents where status='indexed'\").fetchone()[0]
except Exception:
    n = 0
print(n)"
for _ in $(seq $((WAIT_S * 2))); do
    [ "$("$PY" -c "$INDEXED" "$DATA/catalog.sqlite" 2>/dev/null)" = "1" ] && { t2=$(date +%s.%N); break; }
    kill -0 "$APP_PID" 2>/dev/null || { cat "$OUT/app.log" >&2; echo "the app died after its window appeared" >&2; exit 1; }
    sleep 0.5
done
if [ -n "${t2:-}" ]; then
    echo "sample document indexed $(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.1f", b - a }') s after start"
else
    echo "the sample was not indexed within $WAIT_S s (busy machine?); screenshot anyway" >&2
fi
sleep 4
"$PY" -c "import sys; from PIL import ImageGrab; ImageGrab.grab(xdisplay=sys.argv[1]).save(sys.argv[2])" \
    "$DISPLAY" "$OUT/frozen-gui.png"
grep -v '^$' "$OUT/app.log" | tail -5 || true
echo "screenshot: $OUT/frozen-gui.png"

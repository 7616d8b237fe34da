#!/usr/bin/env bash
# Build the Linux one-folder bundle (dist/dossier/), smoke-test it, and pack a tarball.
#
#   packaging/build.sh                 build, self-test the built binary headless, tarball
#   packaging/build.sh --no-tarball    build and test only
#   packaging/build.sh --test-only     self-test an existing dist/dossier/ (no build)
#   packaging/build.sh --gui-check     also open the built app under Xvfb and save a screenshot
#
# Needs the venv with the packaging extra (pip install -e '.[packaging]'). Takes ~10-20 min
# on 2 cores and ~6 GB of disk while building (build/pyinstaller + dist/). Outputs, all
# ignored by git:  dist/dossier/  dist/dossier-<version>-linux-<arch>.tar.gz  build/pyinstaller/
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
BUILD=1 TARBALL=1 TEST=1 GUI=0
for arg in "$@"; do
    case "$arg" in
        --no-tarball) TARBALL=0 ;;
        --no-test) TEST=0 ;;
        --test-only) BUILD=0 TARBALL=0 ;;
        --gui-check) GUI=1 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
    esac
done
VERSION="$("$PY" -c 'import app; print(app.__version__)')"
ARCH="$(uname -m)"
BUNDLE="$ROOT/dist/dossier"
TARGZ="$ROOT/dist/dossier-$VERSION-linux-$ARCH.tar.gz"
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

if [ "$BUILD" = 1 ]; then
    "$PY" -m PyInstaller --version >/dev/null 2>&1 || {
        echo "PyInstaller is missing: $PY -m pip install -e '.[packaging]'" >&2; exit 1; }
    [ -f resources/icons/hicolor/256x256/apps/dossier.png ] || "$PY" packaging/make_icons.py
    mkdir -p build
    echo "building $BUNDLE (log: build/pyinstaller.log) ..."
    t0=$(now)
    # PyInstaller imports torch/transformers/chromadb while analysing: keep it offline too.
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
        "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
        --workpath build/pyinstaller --distpath dist packaging/dossier.spec > build/pyinstaller.log 2>&1 || {
        tail -40 build/pyinstaller.log >&2; echo "build failed; full log: build/pyinstaller.log" >&2; exit 1; }
    # libtorch ships with its symbol tables (~95 MB); strip only torch's own libraries: stripping
    # every library (PyInstaller's strip=True) can break ones that auditwheel patched.
    if command -v strip >/dev/null 2>&1; then
        strip --strip-unneeded "$BUNDLE"/_internal/torch/lib/libtorch_cpu.so "$BUNDLE"/_internal/torch/lib/libtorch_python.so
    fi
    cp packaging/linux/install.sh "$BUNDLE/install.sh"
    chmod +x "$BUNDLE/install.sh"
    echo "built in $(secs "$t0" "$(now)") s: $(du -sh "$BUNDLE" | cut -f1) in $BUNDLE"
fi

[ -x "$BUNDLE/dossier" ] || { echo "no bundle at $BUNDLE; run packaging/build.sh" >&2; exit 1; }

if [ "$TEST" = 1 ]; then
    echo "smoke test: the built binary, headless, in a temporary data folder ..."
    # Nothing from the source tree or the venv may help the frozen app: clean environment.
    env -i HOME="$HOME" PATH=/usr/bin:/bin TMPDIR="${TMPDIR:-/tmp}" QT_QPA_PLATFORM=offscreen \
        DOSSIER_LLM_THREADS="${DOSSIER_LLM_THREADS:-0}" "$BUNDLE/dossier" --self-test
fi

if [ "$GUI" = 1 ]; then
    packaging/gui_check.sh "$BUNDLE/dossier"
fi

if [ "$TARBALL" = 1 ]; then
    echo "packing $TARGZ ..."
    t0=$(now)
    tar -C "$ROOT/dist" -cf - dossier | gzip -6 > "$TARGZ.part"
    mv "$TARGZ.part" "$TARGZ"
    echo "packed in $(secs "$t0" "$(now)") s: $(du -sh "$TARGZ" | cut -f1)"
    echo "install: tar -xzf $(basename "$TARGZ") && ./dossier/install.sh"
fi

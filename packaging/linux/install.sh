#!/usr/bin/env sh
# Install (or remove) the Dossier bundle this script sits in, with a menu entry and icons.
#
#   ./install.sh                 for the current user: ~/.local/opt/dossier, ~/.local/bin/dossier,
#                                ~/.local/share/applications, ~/.local/share/icons
#   sudo ./install.sh --system   for everyone: /opt/dossier, /usr/local/bin/dossier,
#                                /usr/share/applications, /usr/share/icons
#   ./install.sh --uninstall [--system]
#
# Nothing is downloaded and nothing outside the paths above is touched. Documents, settings
# and the index live in the user's data folder (~/.local/share/Dossier) and are never removed.
set -eu

HERE="$(cd "$(dirname "$0")" && pwd)"
MODE=user
ACTION=install
for arg in "$@"; do
    case "$arg" in
        --system) MODE=system ;;
        --uninstall) ACTION=uninstall ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown option: $arg (see --help)" >&2; exit 2 ;;
    esac
done

if [ "$MODE" = system ]; then
    APPDIR=/opt/dossier BINDIR=/usr/local/bin SHARE=/usr/share
else
    DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
    APPDIR="$HOME/.local/opt/dossier" BINDIR="$HOME/.local/bin" SHARE="$DATA"
fi
DESKTOP="$SHARE/applications/dossier.desktop"
ICONS="$SHARE/icons/hicolor"

refresh_menus() {
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$SHARE/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$ICONS" || true
}

if [ "$ACTION" = uninstall ]; then
    rm -rf "$APPDIR"
    rm -f "$BINDIR/dossier" "$DESKTOP" "$ICONS/scalable/apps/dossier.svg"
    for png in "$ICONS"/*/apps/dossier.png; do [ -e "$png" ] && rm -f "$png"; done
    refresh_menus
    echo "Dossier removed (your documents and index in the Dossier data folder were kept)."
    exit 0
fi

[ -x "$HERE/dossier" ] && [ -d "$HERE/_internal" ] || { echo "run install.sh from the unpacked dossier folder" >&2; exit 1; }
RES="$HERE/_internal/resources"

if [ "$HERE" != "$APPDIR" ]; then
    rm -rf "$APPDIR.new"
    mkdir -p "$(dirname "$APPDIR")"
    cp -a "$HERE" "$APPDIR.new"   # copy first, then swap: a failed copy leaves the old install working
    rm -rf "$APPDIR"
    mv "$APPDIR.new" "$APPDIR"
fi
mkdir -p "$BINDIR" "$SHARE/applications" "$ICONS/scalable/apps"
ln -sf "$APPDIR/dossier" "$BINDIR/dossier"
sed -e "s|^Exec=.*|Exec=$APPDIR/dossier|" -e "s|^TryExec=.*|TryExec=$APPDIR/dossier|" \
    "$RES/dossier.desktop" > "$DESKTOP"
chmod 644 "$DESKTOP"
cp "$RES/icons/dossier.svg" "$ICONS/scalable/apps/dossier.svg"
for dir in "$RES"/icons/hicolor/*/; do
    size="$(basename "$dir")"
    mkdir -p "$ICONS/$size/apps"
    cp "$dir/apps/dossier.png" "$ICONS/$size/apps/dossier.png"
done
refresh_menus

echo "Dossier installed in $APPDIR"
echo "  menu entry: $DESKTOP"
echo "  command:    $BINDIR/dossier   (check the installation: dossier --self-test)"
case ":$PATH:" in *":$BINDIR:"*) ;; *) echo "  note: $BINDIR is not on your PATH" ;; esac

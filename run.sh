#!/usr/bin/env bash
# Gait Studio entry point: every command sets up .venv first if it is missing or stale.
#   bash run.sh demo [studio demo options]   the main job on the embedded default
#   bash run.sh test [pytest options]        the test suite (what CI runs)
#   bash run.sh setup                        set-up only
# TORCH_SPEC overrides the torch requirement (default torch==2.13.0, the CPU build here);
# TORCH_INDEX_URL adds a package index for it (e.g. a CUDA wheel index). PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
VENV=${VENV:-.venv}

setup() {
    local stamp="$VENV/.gait-studio-setup"
    local want
    want="$(cat pyproject.toml | sha256sum | cut -c1-16) $TORCH_SPEC ${TORCH_INDEX_URL:-}"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "setting up $VENV with $PYTHON and $TORCH_SPEC ..." >&2
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    local index_args=()
    [ -n "${TORCH_INDEX_URL:-}" ] && index_args=(--extra-index-url "$TORCH_INDEX_URL")
    # torch first and pinned: any unpinned torch requirement would pull several GB of CUDA wheels.
    "$VENV/bin/python" -m pip install -q "${index_args[@]}" "$TORCH_SPEC"
    local constraints
    constraints=$(mktemp)
    echo "$TORCH_SPEC" > "$constraints"
    "$VENV/bin/python" -m pip install -q "${index_args[@]}" -c "$constraints" -e ".[test]"
    rm -f "$constraints"
    echo "$want" > "$stamp"
}

command=${1:-help}
[ $# -gt 0 ] && shift
case "$command" in
    setup) setup ;;
    demo) setup; exec "$VENV/bin/studio" demo "$@" ;;
    test)
        setup
        # the browser tests drive Debian's Chromium (never `playwright install`); install it once, as root
        if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ]; then
            (apt-get update -qq && apt-get install -y -qq chromium) || echo "chromium install failed: browser tests will skip" >&2
        fi
        exec "$VENV/bin/python" -m pytest -q "$@" ;;
    *) sed -n '2,8p' "$0"; exit 2 ;;
esac

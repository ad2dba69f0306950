#!/usr/bin/env bash
# Fail if papers_lib/ or the notebooks are not what nbdev_export and nbdev_clean make of them.
# Compares file contents before and after, so it also works in a work tree with uncommitted edits.
set -euo pipefail
BIN=${BIN:-.venv/bin}
snapshot() { find papers_lib nbs -type f \( -name '*.py' -o -name '*.ipynb' -o -name '*.md' \) \
               -not -path '*/.ipynb_checkpoints/*' -not -path '*/__pycache__/*' -print0 \
             | sort -z | xargs -0 sha1sum; }
before=$(snapshot)
"$BIN/nbdev_export"
"$BIN/nbdev_clean"
"$BIN/python" tools/api_page.py
"$BIN/python" tools/ledger.py
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "check-sync: FAILED. These files changed under nbdev_export / nbdev_clean / tools/api_page.py / tools/ledger.py:" >&2
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u >&2
  echo "Commit the regenerated files (papers_lib is generated from the notebooks: edit the notebooks)." >&2
  exit 1
fi
echo "check-sync: papers_lib, nbs/api/, nbs/reproductions.md and the notebooks are in sync"

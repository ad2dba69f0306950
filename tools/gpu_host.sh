#!/usr/bin/env bash
# Run the GPU cells of chapters on a GPU host whose Python has torch but not papers-run's
# Jupyter dependencies, and collect the executed notebooks.
#
#   tools/gpu_host.sh OUTDIR CHAPTER.ipynb [CHAPTER.ipynb ...]
#
# Wheels in .whl/ (if any) are installed into /tmp/site first: fetch them on a machine with
# network access for the host's Python (see the README's "GPU hosts" section). Each chapter runs
# with `papers-run --gpu --keep-cpu-outputs` (the stored CPU outputs stay the CPU reference) and
# is copied to OUTDIR; run `nbdev_clean` on them after copying them back.
set -uo pipefail
out=$1; shift
mkdir -p "$out"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="$PWD:/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1
status=0
for nb in "$@"; do
  python3 -c "import sys; from papers_lib.run import main; sys.exit(main(sys.argv[1:]))" \
    "$nb" --gpu --keep-cpu-outputs || status=1
  cp "$nb" "$out/" || status=1
done
exit $status

#!/usr/bin/env bash
# Create (or refresh) the peer-tool benchmark environment at benchmarks/.venv-peers.
#
# It holds Microsoft's synthetic-data-showcase Rust core as published on PyPI
# (`pac-synth`, a prebuilt abi3 wheel for CPython >= 3.7 on manylinux x86_64),
# plus numpy/polars/pandas. It is kept apart from the project's own venv so
# that the peer's dependencies never leak into dpshowcase's test environment.
#
# Idempotent: re-running only creates the venv if missing and lets pip skip
# anything already installed at the pinned versions.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${here}/.venv-peers"
python="${PYTHON:-python3}"

if [[ ! -x "${venv}/bin/python" ]]; then
    "${python}" -m venv "${venv}"
fi

# pac-synth 0.0.8 is the last release; pin it so benchmark numbers stay comparable.
"${venv}/bin/python" -m pip install --quiet --upgrade pip
"${venv}/bin/python" -m pip install --quiet --only-binary=pac-synth \
    "pac-synth==0.0.8" numpy polars pandas

"${venv}/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("pac-synth", "numpy", "polars", "pandas"):
    print(f"{name}=={md.version(name)}")
import pacsynth  # the import name differs from the distribution name
print("pacsynth loads from", pacsynth.__file__)
PY

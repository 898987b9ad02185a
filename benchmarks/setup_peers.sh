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

# smartnoise-synth (AIM, MST) at benchmarks/.venv-snsynth, for bench_aim.py. Its wheel
# requires opacus (and so PyTorch, gigabytes) for its GAN synthesizers only; AIM and MST
# do not import them, so it is installed without its declared dependencies, then with
# those AIM and MST use (mbi < 2 as smartnoise-synth pins it, pac-synth, smartnoise-sql).
sn="${here}/.venv-snsynth"
if [[ ! -x "${sn}/bin/python" ]]; then
    "${python}" -m venv "${sn}"
fi
"${sn}/bin/python" -m pip install --quiet --upgrade pip
"${sn}/bin/python" -m pip install --quiet --no-deps "smartnoise-synth==1.0.8"
"${sn}/bin/python" -m pip install --quiet Faker "disjoint-set>=0.9,<0.10" "mbi>=1.1.0,<2" \
    "pac-synth==0.0.8" "smartnoise-sql>=1.0.10" pandas scikit-learn
"${sn}/bin/python" -c "from snsynth import Synthesizer; print('smartnoise-synth loads')"

#!/usr/bin/env bash
# Installs what tools/golden_fixtures.py needs: Debian's numpy for the system Python
# (/usr/bin/python3). Idempotent: apt runs only when numpy is missing. Tests never need
# this; it is only for regenerating test/fixtures/golden/.
# Usage: bash tools/setup_python_reference.sh
set -euo pipefail

python=/usr/bin/python3
if "$python" -c 'import numpy' 2>/dev/null; then
  echo "numpy $("$python" -c 'import numpy; print(numpy.__version__)') already installed for $python"
  exit 0
fi
# The pyenv python3 earlier on PATH has no numpy and pip reaches no index here: use apt.
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3-numpy
"$python" -c 'import numpy; print("numpy", numpy.__version__, "installed for '"$python"'")'

# Sourced by ensure-env.sh: put a uv command in the array UV, installing uv if need be.
# Needs only Python 3.11+. The system's Python is never changed: on Debian and Ubuntu it is
# "externally managed" (PEP 668) and refuses `pip install` and `pip install --user`, so uv
# goes into a virtual environment of its own under .tools/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

uv_home="$PWD/.tools/uv-venv"
if command -v uv >/dev/null 2>&1; then
  UV=(uv)
elif [ -x "$uv_home/bin/uv" ]; then
  UV=("$uv_home/bin/uv")
elif python3 -m uv --version >/dev/null 2>&1; then
  UV=(python3 -m uv)
else
  echo "uv not found: installing it from PyPI into .tools/uv-venv (the system's Python is left alone)..." >&2
  rm -rf "$uv_home"
  if python3 -m venv "$uv_home" >/dev/null 2>&1; then
    "$uv_home/bin/python" -m pip install --quiet --disable-pip-version-check uv
  else
    # No venv support (Debian without python3-venv): pip still installs into a directory of
    # our own, which PEP 668 allows (it guards the system's site-packages only).
    rm -rf "$uv_home"
    python3 -m pip install --quiet --disable-pip-version-check --target "$uv_home/lib" uv
    mkdir -p "$uv_home/bin"
    ln -sf "$uv_home/lib/bin/uv" "$uv_home/bin/uv"
  fi
  UV=("$uv_home/bin/uv")
fi

# The uv executable itself, for what runs under the scripts (the policy pack's entry-point
# test makes a venv with it, as the Pulumi CLI does): found wherever it came from above.
if [ "${UV[0]}" = python3 ]; then
  DRS_UV="$(python3 -c 'import uv; print(uv.find_uv_bin())')"
else
  DRS_UV="$(command -v "${UV[0]}")"
fi
export DRS_UV

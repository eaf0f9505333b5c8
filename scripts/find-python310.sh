#!/usr/bin/env bash
# Print the path of a working Python 3.10 interpreter, or explain how to get one and fail.
# Rasa Open Source 3.6 installs on Python 3.8-3.10 only.
set -u

works() { "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; }

for candidate in "${PYTHON310:-}" python3.10; do
  [ -n "$candidate" ] || continue
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if works "$path"; then echo "$path"; exit 0; fi
done

# pyenv installs versions side by side; its shim fails unless 3.10 is selected, so go to the file.
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for path in $(ls -d "$pyenv_root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do
  if works "$path"; then echo "$path"; exit 0; fi
done

if command -v uv >/dev/null 2>&1; then
  path=$(uv python find 3.10 2>/dev/null) && works "$path" && { echo "$path"; exit 0; }
fi

for path in /usr/bin/python3.10 /usr/local/bin/python3.10; do
  if [ -x "$path" ] && works "$path"; then echo "$path"; exit 0; fi
done

echo "No Python 3.10 found (Rasa 3.6 needs 3.8-3.10). Install one with 'pyenv install 3.10' or 'uv python install 3.10', or set PYTHON310=/path/to/python3.10." >&2
exit 1

#!/usr/bin/env bash
# Print one hash over every training input: config.yml, domain.yml, domain/ and data/ (not data/knowledge/,
# which the AI reads at run time). `make train` retrains only when this hash changes.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  find config.yml domain.yml domain data -type f \( -name '*.yml' -o -name '*.yaml' -o -name '*.json' \) \
    -not -path 'data/knowledge/*' 2>/dev/null | LC_ALL=C sort | while read -r file; do
      printf '%s\n' "$file"; sha256sum < "$file"
    done
} | sha256sum | cut -d' ' -f1

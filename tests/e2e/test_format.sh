#!/usr/bin/env bash
# The tree is clang-format clean (.clang-format at the top).
set -euo pipefail
cd "${DROVER_SOURCE_DIR:?}"
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find server agent tests -name '*.[ch]')
bad=()
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "not clang-format clean: ${bad[*]}"
  exit 1
fi
echo "${#files[@]} files clang-format clean"

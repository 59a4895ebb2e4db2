#!/usr/bin/env bash
# Re-fetch the web app's libraries (`make vendor`): each package at its exact
# version with `npm pack`, then only its built browser file (and its licence)
# copied into services/gateway/web/static/vendor/, recorded in VERSIONS with
# its sha256. npm is needed here only; nothing runs Node.js at run time.
# To upgrade a library, change its version below and run this again.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=services/gateway/web/static/vendor
PACKAGES=(  # package version built-file
  "vue 3.5.45 dist/vue.esm-browser.prod.js"
  "vue-router 5.5.1 dist/vue-router.esm-browser.prod.js"
  "vue-i18n 11.4.18 dist/vue-i18n.esm-browser.prod.js"
  "redoc 2.5.4 bundles/redoc.standalone.js"
  "echarts 6.1.0 dist/echarts.esm.min.js"  # the analytics dashboard's charts (the ES module build, all charts)
)

command -v npm >/dev/null || { echo "npm is needed to vendor (apt-get install npm)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rm -rf "$DEST" && mkdir -p "$DEST"
echo "# package version file sha256 (written by scripts/vendor.sh; do not edit)" > "$DEST/VERSIONS"
for entry in "${PACKAGES[@]}"; do
  read -r name version file <<<"$entry"
  tarball=$(cd "$work" && npm pack --silent "$name@$version" | tail -n 1)
  mkdir -p "$work/$name" && tar -xzf "$work/$tarball" -C "$work/$name"
  cp "$work/$name/package/$file" "$DEST/"
  cp "$work/$name/package/LICENSE" "$DEST/$name.LICENSE"
  # Apache-2.0 packages (echarts) ship a NOTICE that must travel with them
  if [ -f "$work/$name/package/NOTICE" ]; then cp "$work/$name/package/NOTICE" "$DEST/$name.NOTICE"; fi
  base=$(basename "$file")
  echo "$name $version $base $(sha256sum "$DEST/$base" | cut -d' ' -f1)" >> "$DEST/VERSIONS"
done
cat "$DEST/VERSIONS"

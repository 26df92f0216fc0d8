#!/usr/bin/env bash
# Installs the Debian packages (and npm packages) Krate needs to build, run and test.
# Usage: scripts/bootstrap.sh [build|test|bench|browser]...  (default: build)
# Only missing packages are installed; a machine that has them all is left untouched.
# `browser` also installs tests/browser's npm packages (playwright-core, which drives Debian's
# Chromium and downloads no browser) from its package-lock.json, again only when they are missing
# or the lock file changed since the last install.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(build)

build_pkgs=(build-essential pkg-config cmake git libmicrohttpd-dev libjansson-dev libyaml-dev
            libsqlite3-dev libgit2-dev libcurl4-openssl-dev libssl-dev libsodium-dev
            libmd4c-dev bubblewrap)
test_pkgs=(libcmocka-dev curl sqlite3 clang)
bench_pkgs=(wrk nginx cgit)
browser_pkgs=(chromium nodejs npm)

pkgs=("${build_pkgs[@]}")
for w in "${want[@]}"; do
  case "$w" in
    build) ;;
    test) pkgs+=("${test_pkgs[@]}") ;;
    bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
    browser) pkgs+=("${browser_pkgs[@]}") ;;
    *) echo "bootstrap: unknown set '$w'" >&2; exit 2 ;;
  esac
done

missing=()
# dedupe: sets may overlap
mapfile -t pkgs < <(printf "%s\n" "${pkgs[@]}" | awk "!seen[\$0]++")
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nodejs/npm may come from outside Debian (a preinstalled node); accept any working npm.
if command -v npm >/dev/null 2>&1; then
  tmp=()
  for p in "${missing[@]}"; do case "$p" in nodejs|npm) ;; *) tmp+=("$p") ;; esac; done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if printf '%s\n' "${want[@]}" | grep -qx browser; then
  dir="$root/tests/browser"
  stamp="$dir/node_modules/.krate-lock.sha256"
  lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -d "$dir/node_modules/playwright-core" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]; then
    echo "bootstrap: npm ci in tests/browser"
    # --ignore-scripts: no package gets to run an install step (such as a browser download).
    npm ci --prefix "$dir" --no-audit --no-fund --ignore-scripts >/dev/null
    echo "$lock_sum" >"$stamp"
  fi
fi

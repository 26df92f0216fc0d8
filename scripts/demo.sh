#!/usr/bin/env bash
# Builds Krate and runs it with demo data on the embedded default
# (SQLite + bare git repositories in ./krate-data), on http://127.0.0.1:8080.
# Extra arguments go to `krate serve` (e.g. --listen 127.0.0.1:9090).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKRATE_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc)" --target krate >/dev/null
data=./krate-data
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--data" ] && data=${args[$((i + 1))]}
done
cat <<TXT
Krate demo: the console URL and its sign-in (user demo) are printed below once it is up.
From a shell, try
  export KRATE_SERVER=http://127.0.0.1:8080 KRATE_TOKEN=\$(cat $data/admin.token)
  ./build/krate get repositories -n demo
  curl -H "Authorization: Bearer \$KRATE_TOKEN" http://127.0.0.1:8080/api/controller?org=demo
Press Ctrl-C to stop.
TXT
exec ./build/krate serve --demo --data "$data" "$@"

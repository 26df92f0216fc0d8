#!/usr/bin/env bash
# Krate benchmarks (`make bench`): GET against nginx, applies, watch fan-out, memory, git clone,
# console tree and log pages against cgit.
# Prints a summary table and writes docs/benchmarks.md; raw output stays in build/bench/.
# Everything listens on 127.0.0.1 only, every loop is bounded in time, and every
# process started here is stopped by its PID on exit.
#
# Environment: KRATE_BIN (default build/krate, built if missing), BENCH_DURATION (wrk -d, default 5s),
# BENCH_DOC (default docs/benchmarks.md), BENCH_OUT (raw output, default build/bench), BENCH_WATCHERS (1000),
# BENCH_WATCH_APPLIES (200), BENCH_LOAD_BATCHES (100 batches of 1000 objects), BENCH_CLONE_RUNS (3),
# BENCH_CGIT_REQUESTS (200), BENCH_CGIT_RUNS (3), BENCH_ONLY=clone or BENCH_ONLY=cgit (run only that phase;
# prints its rows and writes summary-clone.md or summary-cgit.md next to the raw output, leaves BENCH_DOC alone).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${BENCH_OUT:-$ROOT/build/bench}
KRATE=${KRATE_BIN:-$ROOT/build/krate}
DOC=${BENCH_DOC:-$ROOT/docs/benchmarks.md}
DUR=${BENCH_DURATION:-5s}
WATCHERS=${BENCH_WATCHERS:-1000}
WATCH_APPLIES=${BENCH_WATCH_APPLIES:-200}
LOAD_BATCHES=${BENCH_LOAD_BATCHES:-100}
LOAD_BATCH_SIZE=1000
GET_RUNS=3

for tool in wrk nginx curl cc cmake awk git base64 timeout; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (bash scripts/bootstrap.sh bench)" >&2; exit 1; }
done

mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.log "$OUT"/summary.md

if [ ! -x "$KRATE" ]; then
	if [ -n "${KRATE_BIN:-}" ]; then
		echo "bench: KRATE_BIN=$KRATE is not executable" >&2
		exit 1
	fi
	echo "bench: building $KRATE"
	cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$ROOT/build" --target krate -j "$(nproc)" >/dev/null
fi
cc -O2 -Wall -Wextra -Werror -o "$OUT/watchbench" "$ROOT/bench/watchbench.c" -lm

TMP=$(mktemp -d /tmp/krate-bench.XXXXXX)
PIDS=()

# alive PID: running (a child that exited stays a zombie until reaped, and kill -0 still succeeds on it).
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# SIGTERM, then up to 5 s, then SIGKILL; nginx's workers are killed by their own PIDs
# if the master had to be killed.
stop_pid() {
	local pid=$1 i kids
	if ! alive "$pid"; then
		wait "$pid" 2>/dev/null || true
		return 0
	fi
	kids=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		echo "bench: PID $pid ignored SIGTERM for 5 s; killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
		for k in $kids; do kill -KILL "$k" 2>/dev/null || true; done
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local pid
	for pid in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$pid"; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }
metric() { curl -s --max-time 10 "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
# fcmp A OP B: awk numeric comparison, for PASS/MISS.
fcmp() { awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN { r = (op == "<") ? (a + 0 < b + 0) : (op == "<=") ? (a + 0 <= b + 0) : (a + 0 >= b + 0); exit !(a != "" && a != "nan" && r) }'; }
verdict() { if fcmp "$1" "$2" "$3"; then echo PASS; else echo MISS; fi; }
# A figure from a run the server did not survive is not a pass, whatever the number.
apverdict() { if [ -n "$4" ]; then echo "MISS (crash)"; else verdict "$1" "$2" "$3"; fi; }

# start_krate NAME [serve options...]: sets K_PID, K_PORT, K_DATA, K_AUTH (a curl header file).
start_krate() {
	local name=$1 i
	shift
	K_NAME=$name
	K_DATA=$TMP/$name
	"$KRATE" serve --listen 127.0.0.1:0 --data "$K_DATA" "$@" >"$OUT/krate-$name.log" 2>&1 &
	K_PID=$!
	PIDS+=("$K_PID")
	for ((i = 0; i < 100; i++)); do
		[ -s "$K_DATA/krate.port" ] && [ -s "$K_DATA/admin.token" ] && break
		alive "$K_PID" || { cat "$OUT/krate-$name.log" >&2; echo "bench: krate $name exited" >&2; exit 1; }
		sleep 0.1
	done
	[ -s "$K_DATA/krate.port" ] || { echo "bench: krate $name did not start in 10 s" >&2; exit 1; }
	K_PORT=$(cat "$K_DATA/krate.port")
	K_AUTH=$TMP/$name.auth
	(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$K_DATA/admin.token")" >"$K_AUTH")
	for ((i = 0; i < 50; i++)); do
		curl -sf --max-time 2 "http://127.0.0.1:$K_PORT/healthz" >/dev/null && break
		sleep 0.1
	done
}

# api METHOD PATH [BODY]: prints the status code; the body goes to $TMP/resp.
api() {
	local args=(-s --max-time 30 -o "$TMP/resp" -w '%{http_code}' -X "$1" -H "@$K_AUTH")
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	curl "${args[@]}" "http://127.0.0.1:$K_PORT$2"
}

create_org() {
	local code
	code=$(api POST /api/orgs '{"name":"bench"}')
	[ "$code" = 201 ] || { echo "bench: POST /api/orgs answered $code: $(cat "$TMP/resp")" >&2; exit 1; }
}

# parse_wrk FILE: prints "rps p50_ms p99_ms requests seconds non2xx socket_errors".
parse_wrk() {
	awk '
	function ms(v,   n, u) {
		n = v; sub(/[a-z]+$/, "", n); u = v; sub(/^[0-9.]+/, "", u)
		if (u == "us") return n / 1000
		if (u == "ms") return n + 0
		if (u == "s") return n * 1000
		if (u == "m") return n * 60000
		return n
	}
	function secs(v,   n, u) {
		n = v; sub(/[a-z]+$/, "", n); u = v; sub(/^[0-9.]+/, "", u)
		return u == "m" ? n * 60 : (u == "ms" ? n / 1000 : n + 0)
	}
	$1 == "50%" { p50 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	/ requests in / { reqs = $1; dur = $4; sub(/,$/, "", dur); dur = secs(dur) }
	/^ *Non-2xx or 3xx responses:/ { non2xx = $NF }
	/^ *Socket errors:/ { gsub(/,/, ""); serr = $4 + $6 + $8 + $10 }
	/^Requests\/sec:/ { rps = $2 }
	END { printf "%s %.3f %.3f %d %.3f %d %d\n", rps, p50, p99, reqs, dur, non2xx + 0, serr + 0 }
	' "$1"
}

mean() { awk '{ s += $1; n++ } END { if (n) printf "%.0f", s / n }'; }

# crashed PID NAME: if the server has exited, reaps it, prints why and returns 0.
CRASHES=()
crashed() {
	local pid=$1 name=$2 st=0 why
	alive "$pid" && return 1
	wait "$pid" 2>/dev/null || st=$?
	if [ "$st" -gt 128 ]; then
		why="krate $name was killed by SIG$(kill -l $((st - 128))) during the $3 phase"
	else
		why="krate $name exited with status $st during the $3 phase"
	fi
	why="$why (server log: build/bench/krate-$name.log, last line: $(tail -n1 "$OUT/krate-$name.log"))"
	echo "bench: $why" >&2
	CRASHES+=("$why")
	return 0
}

# ---------------------------------------------------------------- the big repository (clone and cgit phases)
# gen_big_repo: generates the repository once per run (bench/gen-repo.awk | git fast-import) in
# $TMP/gen/big.git; sets CL_GEN_SECS, CL_PACK_MB, CL_COMMITS, CL_FILES, CL_TIP.
# big_repo NAME: starts a fresh server NAME (K_*) and pushes that repository to it (generating it first
# if needed) as the public Repository bench/big; sets BIG_URL and CL_PUSH_SECS.
# git runs with no global/system config and no terminal prompt.
CLONE_FILES=5000
CLONE_COMMITS=2000
CLONE_RUNS=${BENCH_CLONE_RUNS:-3}
g() { GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 git "$@"; }
gen_big_repo() {
	local gen=$TMP/gen/big.git t0 t1
	echo "bench: generating $CLONE_FILES files / $CLONE_COMMITS commits with git fast-import"
	rm -rf "$TMP/gen"
	mkdir -p "$TMP/gen"
	g init -q --bare -b main "$gen"
	t0=$(now)
	LC_ALL=C awk -v files="$CLONE_FILES" -v commits="$CLONE_COMMITS" -f "$ROOT/bench/gen-repo.awk" |
		g -C "$gen" fast-import --quiet --done
	g -C "$gen" repack -a -d -q
	t1=$(now)
	CL_GEN_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	CL_PACK_MB=$(du -cb "$gen"/objects/pack/*.pack | awk 'END { printf "%.1f", $1 / 1048576 }')
	CL_COMMITS=$(g -C "$gen" rev-list --count main)
	CL_FILES=$(g -C "$gen" ls-tree -r --name-only main | wc -l)
	CL_TIP=$(g -C "$gen" rev-parse main)
	echo "  $CL_FILES files, $CLONE_COMMITS commits ($CL_COMMITS), pack $CL_PACK_MB MiB, tip $CL_TIP, made in $CL_GEN_SECS s"
}
big_repo() {
	local gen=$TMP/gen/big.git hdr code phase i t0 t1 got
	[ -d "$gen" ] || gen_big_repo
	start_krate "$1"
	create_org
	code=$(api POST /api/orgs/bench/resources '{"kind":"Repository","metadata":{"name":"big"},"spec":{"visibility":"public","defaultBranch":"main"}}')
	[ "$code" = 201 ] || { echo "bench: apply big answered $code: $(cat "$TMP/resp")" >&2; exit 1; }
	phase=
	for ((i = 0; i < 300; i++)); do
		api GET /api/orgs/bench/resources/Repository/big >/dev/null
		phase=$(grep -o '"phase":"[^"]*"' "$TMP/resp" | head -n1 | cut -d'"' -f4 || true)
		[ "$phase" = Ready ] && break
		[ "$phase" = Failed ] && break
		sleep 0.1
	done
	[ "$phase" = Ready ] || { echo "bench: Repository big is not Ready after 30 s (phase '$phase'): $(cat "$TMP/resp")" >&2; exit 1; }
	BIG_URL=http://127.0.0.1:$K_PORT/bench/big.git
	hdr="Authorization: Basic $(printf 'bench:%s' "$(cat "$K_DATA/admin.token")" | base64 -w0)"
	t0=$(now)
	timeout 300 env GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 \
		git -C "$gen" -c http.extraHeader="$hdr" push -q --mirror "$BIG_URL" >"$OUT/push-$1.log" 2>&1 ||
		{ cat "$OUT/push-$1.log" >&2; echo "bench: git push --mirror to $BIG_URL failed" >&2; exit 1; }
	t1=$(now)
	CL_PUSH_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	got=$(timeout 60 env GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 git ls-remote "$BIG_URL" refs/heads/main | cut -f1)
	[ "$got" = "$CL_TIP" ] || { echo "bench: $BIG_URL has main at '$got', expected $CL_TIP" >&2; exit 1; }
}

# ---------------------------------------------------------------- clone phase (git smart HTTP)
# clone_bench: pushes the big repository to a fresh server, then times interleaved clones through Krate
# and `git clone --no-local` of the generated bare repository, with and without checkout.
# Sets CL_* (see clone_rows).
clone_bench() {
	local gen=$TMP/gen/big.git dst=$TMP/clone/dst url run mode side
	echo "bench: clone"
	rm -rf "$TMP/clone"
	mkdir -p "$TMP/clone"
	big_repo git
	CL_PID=$K_PID
	url=$BIG_URL
	echo "  pushed to $url in $CL_PUSH_SECS s; $CLONE_RUNS interleaved runs of each clone"

	# clone_once SIDE MODE: one timed clone into a fresh dst; appends the seconds to $TMP/clone-SIDE-MODE.
	clone_once() {
		local side=$1 mode=$2 src flags=(-q) t0 t1 head
		[ "$side" = krate ] && src=$url || { src=$gen; flags+=(--no-local); }
		[ "$mode" = nocheckout ] && flags+=(--no-checkout)
		rm -rf "$dst"
		t0=$(now)
		timeout 300 env GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 \
			git clone "${flags[@]}" "$src" "$dst" >>"$OUT/clone.log" 2>&1 ||
			{ tail -n 20 "$OUT/clone.log" >&2; echo "bench: git clone ${flags[*]} $src failed" >&2; exit 1; }
		t1=$(now)
		head=$(g -C "$dst" rev-parse HEAD)
		[ "$head" = "$CL_TIP" ] || { echo "bench: clone of $src has HEAD $head, expected $CL_TIP" >&2; exit 1; }
		if [ "$mode" = checkout ] && [ "$(find "$dst/src" -type f | wc -l)" != "$CL_FILES" ]; then
			echo "bench: clone of $src did not check out $CL_FILES files" >&2; exit 1
		fi
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >>"$TMP/clone-$side-$mode"
	}
	: >"$OUT/clone.log"
	for mode in checkout nocheckout; do
		for side in krate direct; do : >"$TMP/clone-$side-$mode"; done
	done
	# Warm-up (not counted): one transfer-only clone of each.
	clone_once krate nocheckout
	clone_once direct nocheckout
	for mode in checkout nocheckout; do
		for side in krate direct; do : >"$TMP/clone-$side-$mode"; done
	done
	for ((run = 1; run <= CLONE_RUNS; run++)); do
		for mode in checkout nocheckout; do
			clone_once krate "$mode"
			clone_once direct "$mode"
		done
		echo "  run $run: clone krate $(tail -n1 "$TMP/clone-krate-checkout") s, direct $(tail -n1 "$TMP/clone-direct-checkout") s;" \
			"--no-checkout krate $(tail -n1 "$TMP/clone-krate-nocheckout") s, direct $(tail -n1 "$TMP/clone-direct-nocheckout") s"
	done
	rm -rf "$dst"
	for mode in checkout nocheckout; do
		for side in krate direct; do
			cat "$TMP/clone-$side-$mode" >"$OUT/clone-$side-$mode.txt"
		done
	done
	smean() { awk '{ s += $1; n++ } END { if (n) printf "%.3f", s / n }' "$1"; }
	sruns() { awk '{ printf("%s%.2f", (NR > 1 ? " / " : ""), $1) }' "$1"; }
	CL_K=$(smean "$TMP/clone-krate-checkout"); CL_D=$(smean "$TMP/clone-direct-checkout")
	CL_KN=$(smean "$TMP/clone-krate-nocheckout"); CL_DN=$(smean "$TMP/clone-direct-nocheckout")
	CL_K_RUNS=$(sruns "$TMP/clone-krate-checkout"); CL_D_RUNS=$(sruns "$TMP/clone-direct-checkout")
	CL_KN_RUNS=$(sruns "$TMP/clone-krate-nocheckout"); CL_DN_RUNS=$(sruns "$TMP/clone-direct-nocheckout")
	CL_RATIO=$(awk -v k="$CL_K" -v d="$CL_D" 'BEGIN { printf "%.3f", (d > 0 ? k / d : 0) }')
	CL_RATIO_N=$(awk -v k="$CL_KN" -v d="$CL_DN" 'BEGIN { printf "%.3f", (d > 0 ? k / d : 0) }')
	CL_CRASH=
	if crashed "$CL_PID" git clone; then
		CL_CRASH=1
	else
		CL_RSS=$(rss_mb "$CL_PID")
		stop_pid "$CL_PID"
	fi
	echo "  clone mean: krate $CL_K s, direct $CL_D s, ratio $CL_RATIO; --no-checkout: krate $CL_KN s, direct $CL_DN s, ratio $CL_RATIO_N"
}

# clone_rows: the Results rows of the clone phase.
clone_rows() {
	echo "| git clone (5,000 files, 2,000 commits) via Krate / direct (mean of $CLONE_RUNS; Krate $CL_K s ($CL_K_RUNS), direct $CL_D s ($CL_D_RUNS)) | $CL_RATIO | ≤ 1.1 | $(apverdict "$CL_RATIO" '<=' 1.1 "$CL_CRASH") |"
	echo "| git clone --no-checkout (transfer only) via Krate / direct (mean of $CLONE_RUNS; Krate $CL_KN s ($CL_KN_RUNS), direct $CL_DN s ($CL_DN_RUNS)) | $CL_RATIO_N | | |"
}
# clone_notes: the Notes item of the clone phase.
clone_notes() {
	echo "- Clone: \`bench/gen-repo.awk | git fast-import\` made a repository with $CL_FILES files at the tip and $CL_COMMITS commits"
	echo "  (deterministic content, tip $CL_TIP, ${CL_PACK_MB} MiB pack after \`git repack -a -d\`, $CL_GEN_SECS s). It was pushed with \`git push --mirror\`"
	echo "  (admin token, Basic auth) to the public Repository \`bench/big\` on a fresh default server in $CL_PUSH_SECS s. Then $CLONE_RUNS interleaved runs of:"
	echo "  clone through Krate, \`git clone --no-local\` of the generated bare repository, and the same pair with \`--no-checkout\`,"
	echo "  each into an emptied directory, after one untimed \`--no-checkout\` clone of each. Wall time of the \`git clone\` process;"
	echo "  git ran with no global or system config (protocol v2). Each clone was checked (HEAD, file count). Server RSS after the clones: ${CL_RSS:-n/a} MB."
	echo "  The checkout of $CL_FILES files is part of both timings; the \`--no-checkout\` row isolates the transfer."
}
clone_commands() {
	echo "LC_ALL=C awk -v files=$CLONE_FILES -v commits=$CLONE_COMMITS -f bench/gen-repo.awk | git -C big.git fast-import --quiet --done   # big.git: git init --bare -b main"
	echo "git -C big.git repack -a -d -q"
	echo "git -C big.git -c http.extraHeader='Authorization: Basic BASE64(bench:TOKEN)' push -q --mirror http://127.0.0.1:KRATE_PORT/bench/big.git"
	echo "git clone -q http://127.0.0.1:KRATE_PORT/bench/big.git dst                  # and with --no-checkout"
	echo "git clone -q --no-local big.git dst                                         # and with --no-checkout"
}

# ---------------------------------------------------------------- cgit phase (console tree and log pages)
# cgit_bench: pushes the big repository to a fresh server, signs in to the console (the sign-in form with
# the admin token) and times CGIT_REQUESTS requests of the console's tree page (src/d07: 100 files) and
# log page (the newest 30 of 2,000 commits), one keep-alive curl process per page and run, against the
# same pages of cgit: Debian's cgit.cgi run directly as a CGI (one process per request, as a web server
# would run it; no web server in front), cache-size=0, max-commit-count=30, reading the very bare
# repository the server keeps in its data directory. CGIT_RUNS interleaved runs after one untimed pass
# of each. Sets CG_* (see cgit_rows).
CGIT_BIN=/usr/lib/cgit/cgit.cgi
CGIT_REQUESTS=${BENCH_CGIT_REQUESTS:-200}
CGIT_RUNS=${BENCH_CGIT_RUNS:-3}
CGIT_PAGES=(tree log)
declare -A CG_KPATH=([tree]=/orgs/bench/repos/big/tree/main/src/d07 [log]=/orgs/bench/repos/big/commits/main)
declare -A CG_CPATH=([tree]=/big/tree/src/d07 [log]=/big/log/)
# What each side's page must contain: a file of src/d07, the newest commit's subject.
declare -A CG_WANT=([tree]=f0007.txt [log]="commit 2000 of 2000")
cgit_bench() {
	local jar=$TMP/cgit.jar repo csrf code page run t0 t1 i
	[ -x "$CGIT_BIN" ] || { echo "bench: $CGIT_BIN is missing (bash scripts/bootstrap.sh bench)" >&2; exit 1; }
	echo "bench: cgit, console tree and log pages against cgit.cgi (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	big_repo cgit
	CG_PID=$K_PID
	repo=$K_DATA/git/bench/big.git
	[ -d "$repo" ] || { echo "bench: no bare repository at $repo" >&2; exit 1; }
	printf 'cache-size=0\nvirtual-root=/\nmax-commit-count=30\nrepo.url=big\nrepo.path=%s\n' "$repo" >"$TMP/cgitrc"
	curl -s --max-time 10 -c "$jar" -b "$jar" -o "$TMP/login.html" "http://127.0.0.1:$K_PORT/login"
	csrf=$(grep -o 'name="csrf" value="[^"]*"' "$TMP/login.html" | head -n1 | cut -d'"' -f4 || true)
	code=$(curl -s --max-time 10 -c "$jar" -b "$jar" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$csrf" \
		--data-urlencode "token=$(cat "$K_DATA/admin.token")" "http://127.0.0.1:$K_PORT/login")
	[ "$code" = 303 ] || { echo "bench: console sign-in answered $code" >&2; exit 1; }
	# The first log request after the push walks the whole history; later ones reuse that order.
	CG_COLD=$(curl -s --max-time 30 -b "$jar" -o "$TMP/cold.html" -w '%{time_total}' \
		"http://127.0.0.1:$K_PORT${CG_KPATH[log]}" | awk '{ printf "%.1f", $1 * 1000 }')

	# krate_pages PAGE: CGIT_REQUESTS requests over one connection; appends the seconds to $TMP/cg-krate-PAGE.
	krate_pages() {
		local page=$1 t0 t1 bad
		for ((i = 0; i < CGIT_REQUESTS; i++)); do
			printf 'url = "http://127.0.0.1:%s%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
				"$K_PORT" "${CG_KPATH[$page]}"
		done >"$TMP/cg.curl"
		t0=$(now)
		curl -s --max-time 300 -b "$jar" -K "$TMP/cg.curl" >"$TMP/cg.codes" || true
		t1=$(now)
		bad=$(grep -vc '^200$' "$TMP/cg.codes" || true)
		[ "$bad" = 0 ] && [ "$(wc -l <"$TMP/cg.codes")" = "$CGIT_REQUESTS" ] ||
			{ echo "bench: Krate's $page page did not answer 200 to every request" >&2; exit 1; }
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }' >>"$TMP/cg-krate-$page"
	}
	# cgit_pages PAGE: CGIT_REQUESTS runs of cgit.cgi (bash forks and execs it directly, as a web
	# server would); appends the seconds to $TMP/cg-cgit-PAGE.
	cgit_pages() {
		local page=$1 t0 t1
		t0=$(now)
		for ((i = 0; i < CGIT_REQUESTS; i++)); do
			CGIT_CONFIG="$TMP/cgitrc" REQUEST_METHOD=GET PATH_INFO="${CG_CPATH[$page]}" QUERY_STRING= \
				SCRIPT_NAME=/ SERVER_NAME=127.0.0.1 SERVER_PORT=80 "$CGIT_BIN" >/dev/null
		done
		t1=$(now)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }' >>"$TMP/cg-cgit-$page"
	}
	# Both sides must show the same thing before anything is timed.
	for page in "${CGIT_PAGES[@]}"; do
		code=$(curl -s --max-time 30 -b "$jar" -o "$OUT/cgit-krate-$page.html" -w '%{http_code}' \
			"http://127.0.0.1:$K_PORT${CG_KPATH[$page]}")
		env -i CGIT_CONFIG="$TMP/cgitrc" REQUEST_METHOD=GET PATH_INFO="${CG_CPATH[$page]}" QUERY_STRING= \
			SCRIPT_NAME=/ SERVER_NAME=127.0.0.1 SERVER_PORT=80 "$CGIT_BIN" >"$OUT/cgit-cgit-$page.html"
		[ "$code" = 200 ] && grep -q "${CG_WANT[$page]}" "$OUT/cgit-krate-$page.html" ||
			{ echo "bench: Krate's $page page ($code) lacks '${CG_WANT[$page]}'" >&2; exit 1; }
		grep -q "${CG_WANT[$page]}" "$OUT/cgit-cgit-$page.html" && ! grep -q '^Status: [45]' "$OUT/cgit-cgit-$page.html" ||
			{ echo "bench: cgit's $page page lacks '${CG_WANT[$page]}' (build/bench/cgit-cgit-$page.html)" >&2; exit 1; }
	done
	CG_KROWS=$(grep -c '<tr data-sha=' "$OUT/cgit-krate-log.html" || true)
	CG_CROWS=$(grep -o "<tr><td><span title='[^']*'>" "$OUT/cgit-cgit-log.html" | wc -l)
	echo "  $CGIT_RUNS interleaved runs of $CGIT_REQUESTS requests per page and side (log rows: Krate $CG_KROWS, cgit $CG_CROWS)"
	for page in "${CGIT_PAGES[@]}"; do
		krate_pages "$page"
		cgit_pages "$page"
		: >"$TMP/cg-krate-$page"
		: >"$TMP/cg-cgit-$page"
	done
	for ((run = 1; run <= CGIT_RUNS; run++)); do
		for page in "${CGIT_PAGES[@]}"; do
			krate_pages "$page"
			cgit_pages "$page"
			echo "  run $run: $page Krate $(tail -n1 "$TMP/cg-krate-$page") s, cgit $(tail -n1 "$TMP/cg-cgit-$page") s"
		done
	done
	# ms per request: mean over the runs of total / requests.
	cgms() { awk -v n="$CGIT_REQUESTS" '{ s += $1; k++ } END { if (k) printf "%.2f", s / k / n * 1000 }' "$1"; }
	cgruns() { awk '{ printf("%s%.2f", (NR > 1 ? " / " : ""), $1) }' "$1"; }
	for page in "${CGIT_PAGES[@]}"; do
		cp "$TMP/cg-krate-$page" "$OUT/cgit-krate-$page.txt"
		cp "$TMP/cg-cgit-$page" "$OUT/cgit-cgit-$page.txt"
	done
	CG_KT=$(cgms "$TMP/cg-krate-tree"); CG_CT=$(cgms "$TMP/cg-cgit-tree")
	CG_KL=$(cgms "$TMP/cg-krate-log"); CG_CL=$(cgms "$TMP/cg-cgit-log")
	CG_KT_RUNS=$(cgruns "$TMP/cg-krate-tree"); CG_CT_RUNS=$(cgruns "$TMP/cg-cgit-tree")
	CG_KL_RUNS=$(cgruns "$TMP/cg-krate-log"); CG_CL_RUNS=$(cgruns "$TMP/cg-cgit-log")
	CG_RT=$(awk -v k="$CG_KT" -v c="$CG_CT" 'BEGIN { printf "%.3f", (c > 0 ? k / c : 0) }')
	CG_RL=$(awk -v k="$CG_KL" -v c="$CG_CL" 'BEGIN { printf "%.3f", (c > 0 ? k / c : 0) }')
	CG_CRASH=
	if crashed "$CG_PID" cgit cgit; then
		CG_CRASH=1
	else
		CG_RSS=$(rss_mb "$CG_PID")
		stop_pid "$CG_PID"
	fi
	echo "  ms per request: tree Krate $CG_KT, cgit $CG_CT (ratio $CG_RT); log Krate $CG_KL, cgit $CG_CL (ratio $CG_RL);" \
		"first log request after the push $CG_COLD ms; load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
cgit_rows() {
	echo "| console tree page (100 files) via Krate / cgit, ms per request (mean of $CGIT_RUNS × $CGIT_REQUESTS; Krate $CG_KT ms (runs $CG_KT_RUNS s), cgit $CG_CT ms (runs $CG_CT_RUNS s)) | $CG_RT | ≤ 1.0 | $(apverdict "$CG_RT" '<=' 1.0 "$CG_CRASH") |"
	echo "| console log page (30 of 2,000 commits) via Krate / cgit, ms per request (mean of $CGIT_RUNS × $CGIT_REQUESTS; Krate $CG_KL ms (runs $CG_KL_RUNS s), cgit $CG_CL ms (runs $CG_CL_RUNS s)) | $CG_RL | ≤ 1.0 | $(apverdict "$CG_RL" '<=' 1.0 "$CG_CRASH") |"
	echo "| console log page, first request after the push (ms) | $CG_COLD | | |"
}
cgit_notes() {
	echo "- cgit: the generated repository of the clone phase (5,000 files, 2,000 commits), pushed to a fresh default server; cgit $(dpkg-query -W -f='${Version}' cgit 2>/dev/null || echo '?')"
	echo "  (\`$CGIT_BIN\`) read the same bare repository in that server's data directory, run directly as a CGI"
	echo "  (\`CGIT_CONFIG\`, \`PATH_INFO\`; one process per request; no web server in front of it, which favours cgit) with"
	echo "  \`cache-size=0\` and \`max-commit-count=30\` (Krate's log page shows 30 too). Krate's pages were fetched signed in"
	echo "  (the sign-in form with the admin token), $CGIT_REQUESTS requests per curl process over one keep-alive connection, every answer"
	echo "  checked to be 200. Pages: tree of \`src/d07\` (100 files with sizes; Krate's page also lists the branches for its"
	echo "  picker) and the log of \`main\` (Krate $CG_KROWS rows, cgit $CG_CROWS). Interleaved Krate, cgit per page, after one untimed pass of each; wall time"
	echo "  of each batch. Krate keeps the topological order of a tip's history in a small memo keyed by the tip's"
	echo "  commit id (libgit2 reads the whole history before yielding the first commit in that order); the first log request"
	echo "  after the push pays that walk ($CG_COLD ms). Server RSS after the phase: ${CG_RSS:-n/a} MB."
}
cgit_commands() {
	echo "printf 'cache-size=0\\nvirtual-root=/\\nmax-commit-count=30\\nrepo.url=big\\nrepo.path=DIR/git/bench/big.git\\n' > cgitrc"
	echo "CGIT_CONFIG=cgitrc REQUEST_METHOD=GET PATH_INFO=/big/tree/src/d07 QUERY_STRING= SCRIPT_NAME=/ $CGIT_BIN   # and PATH_INFO=/big/log/; × $CGIT_REQUESTS"
	echo "curl -s -b JAR -K pages.curl   # $CGIT_REQUESTS × http://127.0.0.1:KRATE_PORT/orgs/bench/repos/big/tree/main/src/d07 (and /commits/main)"
}

echo "bench: raw output in $OUT"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

case ${BENCH_ONLY:-} in
'') ;;
clone)
	clone_bench
	{
		echo "| figure | measured | target | result |"
		echo "|---|---|---|---|"
		clone_rows
		echo
		clone_notes
	} >"$OUT/summary-clone.md"
	echo
	cat "$OUT/summary-clone.md"
	echo
	echo "bench: BENCH_ONLY=clone: wrote $OUT/summary-clone.md; $DOC is only rewritten by the full run (bash bench/run.sh)"
	for c in "${CRASHES[@]+"${CRASHES[@]}"}"; do echo "bench: PROBLEM: $c"; done
	[ -z "$CL_CRASH" ]
	exit
	;;
cgit)
	cgit_bench
	{
		echo "| figure | measured | target | result |"
		echo "|---|---|---|---|"
		cgit_rows
		echo
		cgit_notes
		echo
		echo '```sh'
		cgit_commands
		echo '```'
	} >"$OUT/summary-cgit.md"
	echo
	cat "$OUT/summary-cgit.md"
	echo
	echo "bench: BENCH_ONLY=cgit: wrote $OUT/summary-cgit.md; $DOC is only rewritten by the full run (bash bench/run.sh)"
	for c in "${CRASHES[@]+"${CRASHES[@]}"}"; do echo "bench: PROBLEM: $c"; done
	[ -z "$CG_CRASH" ]
	exit
	;;
*)
	echo "bench: BENCH_ONLY=$BENCH_ONLY: unknown phase (only 'clone' or 'cgit' can run alone)" >&2
	exit 2
	;;
esac

# ---------------------------------------------------------------- server A (default) + nginx
start_krate a
A_PID=$K_PID
sleep 1
IDLE_A_RSS=$(rss_mb "$A_PID")
create_org
code=$(api POST /api/orgs/bench/resources '{"kind":"Repository","metadata":{"name":"r1"},"spec":{"visibility":"public"}}')
[ "$code" = 201 ] || { echo "bench: apply r1 answered $code" >&2; exit 1; }
GET_PATH=/api/orgs/bench/resources/Repository/r1
NG=$TMP/nginx
mkdir -p "$NG/www" "$NG/tmp"
code=$(api GET "$GET_PATH")
[ "$code" = 200 ] || { echo "bench: GET r1 answered $code" >&2; exit 1; }
cp "$TMP/resp" "$NG/www/r1"
GET_BYTES=$(wc -c <"$NG/www/r1")
# nginx workers run as nobody when started by root: they must be able to read the file.
chmod 755 "$TMP" "$NG" "$NG/www"
chmod 644 "$NG/www/r1"

NGINX_PID=
for ((try = 0; try < 10; try++)); do
	NPORT=$((20000 + RANDOM % 40000))
	ss -Hltn "sport = :$NPORT" | grep -q . && continue
	sed -e "s|@DIR@|$NG|g" -e "s|@PORT@|$NPORT|g" "$ROOT/bench/nginx.conf.in" >"$NG/nginx.conf"
	nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/error.log" >"$OUT/nginx.log" 2>&1 &
	NGINX_PID=$!
	PIDS+=("$NGINX_PID")
	for ((i = 0; i < 30; i++)); do
		curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$NPORT/r1" && break 2
		alive "$NGINX_PID" || break
		sleep 0.1
	done
	stop_pid "$NGINX_PID"
	NGINX_PID=
done
[ -n "$NGINX_PID" ] || { cat "$NG/error.log" >&2 || true; echo "bench: nginx did not start" >&2; exit 1; }
curl -s --max-time 5 -o "$TMP/nginx-r1" "http://127.0.0.1:$NPORT/r1"
cmp -s "$TMP/nginx-r1" "$NG/www/r1" || { echo "bench: nginx serves a different body" >&2; exit 1; }

KURL=http://127.0.0.1:$K_PORT$GET_PATH
NURL=http://127.0.0.1:$NPORT/r1
KRATE_TOKEN=$(cat "$K_DATA/admin.token")
export KRATE_TOKEN
WRK_GET=(wrk -t2 -c64 -d"$DUR" --latency -s bench/get.lua)
echo "bench: GET $GET_BYTES bytes, $GET_RUNS interleaved runs of ${WRK_GET[*]} against Krate and nginx"
# A 1 s warm-up of each, not counted.
wrk -t2 -c64 -d1s -s bench/get.lua "$KURL" >/dev/null
wrk -t2 -c64 -d1s -s bench/get.lua "$NURL" >/dev/null
: >"$TMP/get-krate"
: >"$TMP/get-nginx"
for ((run = 1; run <= GET_RUNS; run++)); do
	"${WRK_GET[@]}" "$KURL" >"$OUT/wrk-get-krate-$run.txt"
	parse_wrk "$OUT/wrk-get-krate-$run.txt" >>"$TMP/get-krate"
	"${WRK_GET[@]}" "$NURL" >"$OUT/wrk-get-nginx-$run.txt"
	parse_wrk "$OUT/wrk-get-nginx-$run.txt" >>"$TMP/get-nginx"
	echo "  run $run: krate $(awk 'END { print $1 }' "$TMP/get-krate") req/s, nginx $(awk 'END { print $1 }' "$TMP/get-nginx") req/s"
done
stop_pid "$NGINX_PID"
GET_K_RPS=$(mean <"$TMP/get-krate")
GET_N_RPS=$(mean <"$TMP/get-nginx")
GET_RATIO=$(awk -v k="$GET_K_RPS" -v n="$GET_N_RPS" 'BEGIN { printf("%.2f", (n ? k / n : 0)) }')
GET_K_P50=$(awk '{ s += $2 } END { printf "%.2f", s / NR }' "$TMP/get-krate")
GET_K_P99=$(awk 'NR == 1 || $3 > m { m = $3 } END { printf "%.2f", m }' "$TMP/get-krate")
GET_N_P50=$(awk '{ s += $2 } END { printf "%.2f", s / NR }' "$TMP/get-nginx")
GET_N_P99=$(awk 'NR == 1 || $3 > m { m = $3 } END { printf "%.2f", m }' "$TMP/get-nginx")
GET_K_NON2XX=$(awk '{ s += $6 + $7 } END { print s + 0 }' "$TMP/get-krate")
GET_K_RUNS=$(awk '{ printf("%s%.0f", (NR > 1 ? " / " : ""), $1) }' "$TMP/get-krate")
GET_N_RUNS=$(awk '{ printf("%s%.0f", (NR > 1 ? " / " : ""), $1) }' "$TMP/get-nginx")


# apply_bench LABEL TAG: wrk POSTs distinct Issues to the current server.
# Sets AP_RPS (2xx only) AP_P50 AP_P99 AP_OK AP_NON2XX AP_SERR AP_GROWTH AP_CRASH.
apply_bench() {
	local label=$1 tag=$2 before after f=$OUT/wrk-apply-$1.txt rps reqs secs
	before=$(metric "$K_PORT" krate_store_objects)
	KRATE_TOKEN=$(cat "$K_DATA/admin.token") BENCH_TAG=$tag \
		wrk -t2 -c64 -d"$DUR" --latency -s bench/apply.lua "http://127.0.0.1:$K_PORT/api/orgs/bench/resources" >"$f"
	sleep 0.5
	read -r rps AP_P50 AP_P99 reqs secs AP_NON2XX AP_SERR < <(parse_wrk "$f")
	AP_OK=$((reqs - AP_NON2XX))
	AP_RPS=$(awk -v n="$AP_OK" -v s="$secs" 'BEGIN { printf("%.0f", (s > 0 ? n / s : 0)) }')
	AP_CRASH=
	if crashed "$K_PID" "$K_NAME" "apply ($label)"; then
		AP_CRASH=1
		AP_GROWTH="unknown (the server exited)"
	else
		after=$(metric "$K_PORT" krate_store_objects)
		AP_GROWTH=$((after - before))
		if [ "$AP_GROWTH" -lt "$AP_OK" ]; then
			echo "bench: $label: the store grew by $AP_GROWTH objects but wrk saw $AP_OK 2xx answers" >&2
		fi
	fi
	echo "  $label: $AP_RPS 2xx/s (wrk total $rps req/s, $reqs requests, $AP_NON2XX non-2xx, $AP_SERR socket errors)," \
		"p50 $AP_P50 ms, p99 $AP_P99 ms; store grew by $AP_GROWTH"
}

echo "bench: applies, wrk -t2 -c64 -d$DUR --latency -s bench/apply.lua"
apply_bench default ad
AD=("$AP_RPS" "$AP_P50" "$AP_P99" "$AP_OK" "$AP_NON2XX" "$AP_SERR" "$AP_GROWTH" "$AP_CRASH")

# ---------------------------------------------------------------- watch fan-out on server A
WATCH_SERVER="the default server, after its apply run"
if [ -n "${AD[7]}" ]; then
	# Server A is gone: measure the fan-out on a fresh default server rather than not at all.
	start_krate a2
	A_PID=$K_PID
	create_org
	WATCH_SERVER="a fresh default server, because the first one exited during its apply run"
fi
RV=$(metric "$K_PORT" krate_store_resource_version)
echo "bench: watch fan-out, $WATCHERS watches, $WATCH_APPLIES applies 10 ms apart (from resourceVersion $RV)"
set +e
"$OUT/watchbench" -p "$K_PORT" -t "$K_DATA/admin.token" -r "$RV" -n "$WATCHERS" -m "$WATCH_APPLIES" -i 10 -T 60 \
	>"$OUT/watchbench.txt" 2>&1
WB_RC=$?
set -e
grep -v '^RESULT' "$OUT/watchbench.txt" | sed 's/^/  /'
WB=$(grep '^RESULT' "$OUT/watchbench.txt" | tail -n1 || true)
wb() { printf '%s\n' "$WB" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'; }
if crashed "$A_PID" "$K_NAME" watch; then
	WATCH_RSS="n/a"; WATCHES_OPEN_AFTER="n/a"; A_THREADS="n/a"
else
	WATCH_RSS=$(rss_mb "$A_PID")
	WATCHES_OPEN_AFTER=$(metric "$K_PORT" krate_watches_open)
	A_THREADS=$(threads_of "$A_PID")
	stop_pid "$A_PID"
fi

# ---------------------------------------------------------------- server B (--sync full)
start_krate full --sync full
create_org
apply_bench "sync-full" af
AF=("$AP_RPS" "$AP_P50" "$AP_P99" "$AP_OK" "$AP_NON2XX" "$AP_SERR" "$AP_GROWTH" "$AP_CRASH")
[ -n "$AP_CRASH" ] || stop_pid "$K_PID"

# ---------------------------------------------------------------- server C: memory with 100k objects
start_krate mem
C_PID=$K_PID
sleep 1
IDLE_RSS=$(rss_mb "$C_PID")
create_org
LOAD_TOTAL=$((LOAD_BATCHES * LOAD_BATCH_SIZE))
echo "bench: memory, loading $LOAD_TOTAL Issues in POSTs of $LOAD_BATCH_SIZE"
mkdir -p "$TMP/load"
awk -v batches="$LOAD_BATCHES" -v size="$LOAD_BATCH_SIZE" -v dir="$TMP/load" 'BEGIN {
	for (b = 1; b <= batches; b++) {
		f = sprintf("%s/%03d.json", dir, b)
		printf "[" > f
		for (i = 1; i <= size; i++)
			printf "%s{\"kind\":\"Issue\",\"metadata\":{\"name\":\"m%d-%d\",\"labels\":{\"batch\":\"b%d\"}},\"spec\":{\"title\":\"benchmark issue\",\"body\":\"benchmark issue %d of batch %d\"}}", \
				(i > 1 ? "," : ""), b, i, b, i, b > f
		printf "]" > f
		close(f)
	}
}'
# One curl process for all batches ("next" separates transfers), so the connection is reused.
sep=
for f in "$TMP"/load/*.json; do
	printf '%surl = "http://127.0.0.1:%s/api/orgs/bench/resources"\nheader = "@%s"\n' "$sep" "$K_PORT" "$K_AUTH"
	printf 'header = "Content-Type: application/json"\ndata-binary = "@%s"\n' "$f"
	printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nmax-time = 60\n'
	sep=$'next\n'
done >"$TMP/load.curl"
t0=$(now)
curl -s -K "$TMP/load.curl" >"$TMP/load.codes" || echo "bench: curl exited with status $? during the load" >&2
t1=$(now)
LOAD_OK=$(grep -c '^200$' "$TMP/load.codes" || true)
LOAD_BAD=$(grep -vc '^200$' "$TMP/load.codes" || true)
LOAD_SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
LOAD_RATE=$(awk -v n="$((LOAD_OK * LOAD_BATCH_SIZE))" -v s="$LOAD_SECS" 'BEGIN { printf "%.0f", n / s }')
sort "$TMP/load.codes" | uniq -c | sed 's/^/  status /' >"$OUT/load-status.txt"
LOADED_OBJECTS=$(metric "$K_PORT" krate_store_objects)
sleep 1
if crashed "$C_PID" mem load; then
	echo "bench: the memory phase cannot go on" >&2
	exit 1
fi
LOADED_RSS=$(rss_mb "$C_PID")
echo "  $((LOAD_OK * LOAD_BATCH_SIZE)) objects in ${LOAD_SECS} s ($LOAD_RATE objects/s), $LOAD_BAD failed batches;" \
	"store holds $LOADED_OBJECTS objects; RSS $LOADED_RSS MB"
# A few reads: paged lists, one 10,000-item page, single GETs, an unpaged list.
: >"$OUT/reads.txt"
cont=
for ((i = 0; i < 5; i++)); do
	q="kind=Issue&limit=1000"
	[ -n "$cont" ] && q="$q&continue=$cont"
	echo "GET list $q -> $(api GET "/api/orgs/bench/resources?$q")" >>"$OUT/reads.txt"
	cont=$(grep -o '"continue":"[^"]*"' "$TMP/resp" | head -n1 | cut -d'"' -f4 || true)
done
echo "GET list limit=10000 -> $(api GET '/api/orgs/bench/resources?kind=Issue&limit=10000') $(wc -c <"$TMP/resp") bytes" >>"$OUT/reads.txt"
echo "GET list (no limit) -> $(api GET '/api/orgs/bench/resources?kind=Issue') $(wc -c <"$TMP/resp") bytes" >>"$OUT/reads.txt"
echo "GET list labelSelector=batch=b7 -> $(api GET '/api/orgs/bench/resources?kind=Issue&labelSelector=batch=b7') $(wc -c <"$TMP/resp") bytes" >>"$OUT/reads.txt"
for n in m1-1 m50-500 m100-1000; do
	echo "GET $n -> $(api GET "/api/orgs/bench/resources/Issue/$n")" >>"$OUT/reads.txt"
done
sed 's/^/  /' "$OUT/reads.txt"
sleep 1
if crashed "$C_PID" mem reads; then
	echo "bench: the memory phase cannot go on" >&2
	exit 1
fi
READ_RSS=$(rss_mb "$C_PID")
C_THREADS=$(threads_of "$C_PID")
DATA_MB=$(du -sk "$K_DATA" | awk '{ printf "%.1f", $1 / 1024 }')
DATA_FILES=$(cd "$K_DATA" && du -sk -- * | sort -rn | awk '{ printf("%s%s %.1f MB", (NR > 1 ? ", " : ""), $2, $1 / 1024) }')
stop_pid "$C_PID"

clone_bench
cgit_bench

# ---------------------------------------------------------------- report
W_P50=$(wb p50); W_P95=$(wb p95); W_P99=$(wb p99); W_MAX=$(wb max)
W_SEEN=$(wb seen); W_EXP=$(wb expected); W_CONN=$(wb connected)
W_ALL_P99=$(wb all_p99); W_POST_P99=$(wb post_p99)
MAX_RSS=$(awk -v a="$LOADED_RSS" -v b="$READ_RSS" 'BEGIN { print ((a + 0 > b + 0) ? a : b) }')
GITREV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && GITREV="$GITREV (with uncommitted changes)"
NGINX_V=$(nginx -v 2>&1 | sed 's/^nginx version: nginx\///')
WRK_V=$( (wrk -v 2>&1 || true) | head -n1 | awk '{ print $1, $2 }')
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)

{
	echo "| figure | measured | target | result |"
	echo "|---|---|---|---|"
	echo "| GET one resource, Krate req/s (mean of $GET_RUNS) | $GET_K_RPS ($GET_K_RUNS) | | |"
	echo "| GET static file, nginx req/s (mean of $GET_RUNS) | $GET_N_RPS ($GET_N_RUNS) | | |"
	echo "| GET ratio Krate / nginx | $GET_RATIO | ≥ 1.0 | $(verdict "$GET_RATIO" '>=' 1.0) |"
	echo "| GET Krate p50 / p99 (ms; mean p50, worst p99) | $GET_K_P50 / $GET_K_P99 | p99 < 10 | $(verdict "$GET_K_P99" '<' 10) |"
	echo "| GET nginx p50 / p99 (ms; mean p50, worst p99) | $GET_N_P50 / $GET_N_P99 | | |"
	echo "| applies/s, default server (\`--sync normal\`), 2xx only | ${AD[0]}${AD[7]:+ (server crashed)} | ≥ 5,000 (aim 10,000) | $(apverdict "${AD[0]}" '>=' 5000 "${AD[7]}") |"
	echo "| apply p50 / p99 (ms), default server | ${AD[1]} / ${AD[2]} | p99 < 10 | $(apverdict "${AD[2]}" '<' 10 "${AD[7]}") |"
	echo "| applies/s, \`--sync full\`, 2xx only | ${AF[0]}${AF[7]:+ (server crashed)} | ≥ 5,000 (aim 10,000) | $(apverdict "${AF[0]}" '>=' 5000 "${AF[7]}") |"
	echo "| apply p50 / p99 (ms), \`--sync full\` | ${AF[1]} / ${AF[2]} | p99 < 10 | $(apverdict "${AF[2]}" '<' 10 "${AF[7]}") |"
	echo "| watch deliveries seen / expected ($W_CONN watches) | $W_SEEN / $W_EXP | all | $([ -n "$W_SEEN" ] && [ "$W_SEEN" = "$W_EXP" ] && [ "$W_CONN" = "$WATCHERS" ] && echo PASS || echo MISS) |"
	echo "| watch delivery latency p50 / p95 / p99 / max (ms) | $W_P50 / $W_P95 / $W_P99 / $W_MAX | p99 < 50 | $(verdict "$W_P99" '<' 50) |"
	echo "| RSS idle, empty data dir (MB) | $IDLE_RSS | < 30 | $(verdict "$IDLE_RSS" '<' 30) |"
	echo "| RSS with $LOADED_OBJECTS stored objects, after load / after reads (MB) | $LOADED_RSS / $READ_RSS | < 300 | $(verdict "$MAX_RSS" '<' 300) |"
	echo "| load rate, POSTs of $LOAD_BATCH_SIZE objects (objects/s) | $LOAD_RATE | | |"
	echo "| data dir size with $LOADED_OBJECTS objects (MB) | $DATA_MB | | |"
	clone_rows
	cgit_rows
} >"$TMP/table.md"

{
	echo "# Krate benchmarks"
	echo
	echo "Written by \`make bench\` (\`bash bench/run.sh\`); raw output is kept in \`build/bench/\`."
	echo "Do not edit by hand: rerun the script."
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) CPUs ($CPU), $(awk '/^MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo), $(uname -sr)"
	echo "- Versions: krate $GITREV ($("$KRATE" version 2>/dev/null | head -n1 || echo '?')), nginx $NGINX_V, $WRK_V"
	echo "- Load average (1/5/15 min) when the run started: $LOAD_START; when it ended: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "  Anything else running on the machine skews every figure below."
	echo "- **wrk, the watch client and the server share the same $(nproc) cores**, so the req/s figures are relative"
	echo "  (compare Krate with nginx from the same run), not absolute capacity. Single runs vary by about ±15%."
	echo
	echo "## Results"
	echo
	cat "$TMP/table.md"
	echo
	if [ ${#CRASHES[@]} -gt 0 ]; then
		echo "## Problems seen in this run"
		echo
		for c in "${CRASHES[@]}"; do echo "- $c"; done
		echo
	fi
	echo "## Notes"
	echo
	echo "- GET: Krate served \`$GET_PATH\` ($GET_BYTES bytes); nginx served a static file holding the same bytes"
	echo "  (\`open_file_cache\`, \`sendfile\`, 2 workers, access log off). Runs were interleaved Krate, nginx, ×$GET_RUNS, after a 1 s warm-up of each."
	echo "  Krate non-2xx responses and socket errors over the GET runs: $GET_K_NON2XX."
	echo "- Applies: each request creates a new Issue (unique name per wrk thread and request; Issues measure the API and
  store alone, since a Repository also makes the forge create a bare git repository). Only 2xx answers are counted."
	echo "  Default server: ${AD[3]} 2xx, ${AD[4]} non-2xx, ${AD[5]} socket errors; store growth: ${AD[6]}."
	echo "  \`--sync full\`: ${AF[3]} 2xx, ${AF[4]} non-2xx, ${AF[5]} socket errors; store growth: ${AF[6]}."
	echo "  (Once a server has exited, wrk counts every further attempt as a socket error.)"
	echo "- Watch, on $WATCH_SERVER: $W_CONN of $WATCHERS SSE watches on"
	echo "  \`/api/watch/orgs/bench/issues?resourceVersion=N\` (one epoll thread in \`bench/watchbench.c\`), then $WATCH_APPLIES sequential applies 10 ms apart over one keep-alive connection. Latency runs from"
	echo "  just before the POST is written to the moment a watcher reads the frame naming that object."
	echo "  Time until all watches had an apply: p99 $W_ALL_P99 ms. POST response time while 1,000 watches were open: p99 $W_POST_P99 ms."
	echo "  Server RSS: $IDLE_A_RSS MB idle, $WATCH_RSS MB with the watches open ($A_THREADS threads); \`krate_watches_open\` right after the client closed them: $WATCHES_OPEN_AFTER"
	echo "  (closed streams are noticed at the next heartbeat). watchbench exit code $WB_RC (0 = every delivery seen)."
	echo "- Memory: VmRSS from \`/proc/PID/status\` of a fresh server (threads: $C_THREADS). Idle was read 1 s after start with an empty data dir."
	echo "  The load was $LOAD_BATCHES POSTs of a JSON array of $LOAD_BATCH_SIZE Issues (one curl process, keep-alive), then the reads"
	echo "  in \`build/bench/reads.txt\` (paged lists, a 10,000-item page, an unpaged list, single GETs)."
	echo "  Load: $LOAD_OK batches answered 200, $LOAD_BAD did not. Data dir: $DATA_FILES."
	clone_notes
	cgit_notes
	echo
	echo "## Commands"
	echo
	echo '```sh'
	echo "${KRATE#"$ROOT"/} serve --listen 127.0.0.1:0 --data DIR                # GET, default applies, watch, clone"
	echo "${KRATE#"$ROOT"/} serve --listen 127.0.0.1:0 --data DIR --sync full    # sync-full applies"
	echo "nginx -p DIR -c DIR/nginx.conf -e DIR/error.log             # from bench/nginx.conf.in"
	echo "${WRK_GET[*]} http://127.0.0.1:KRATE_PORT$GET_PATH"
	echo "${WRK_GET[*]} http://127.0.0.1:NGINX_PORT/r1"
	echo "wrk -t2 -c64 -d$DUR --latency -s bench/apply.lua http://127.0.0.1:KRATE_PORT/api/orgs/bench/resources"
	echo "build/bench/watchbench -p KRATE_PORT -t DIR/admin.token -r RV -n $WATCHERS -m $WATCH_APPLIES -i 10 -T 60"
	echo "curl -s -K load.curl      # $LOAD_BATCHES × POST /api/orgs/bench/resources, JSON arrays of $LOAD_BATCH_SIZE"
	clone_commands
	cgit_commands
	echo '```'
	echo
	echo "The token reaches wrk through \`KRATE_TOKEN\` (read by the lua scripts) and curl through a header file."
} >"$TMP/benchmarks.md"

cp "$TMP/benchmarks.md" "$OUT/summary.md"
cp "$TMP/benchmarks.md" "$DOC"
echo
cat "$TMP/table.md"
for c in "${CRASHES[@]+"${CRASHES[@]}"}"; do echo "bench: PROBLEM: $c"; done
echo
echo "bench: wrote $DOC"
# The figures are written either way; a server that crashed under load fails the run.
[ ${#CRASHES[@]} -eq 0 ]

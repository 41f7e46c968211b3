#!/usr/bin/env bash
# store-compare.sh: certgate on bbolt against certgate on PostgreSQL, in one
# run on this machine: EST enrollments/s and p99 at concurrency 8 and 64
# (cmd/estload), and OCSP responses/s on cached serials (cmd/ocspload, POST,
# raw client). Prints a markdown table with the PostgreSQL/bbolt ratios.
#
# Usage: integration/bench/store-compare.sh [-n "400 1000"] [-o 20000] [-r 1] [-K]
#   -n  enrollments at concurrency 8 and 64     -o  OCSP requests per run (c=8)
#   -r  runs of every measure, alternating between the stores; cells are
#       medians                                 -K  keep the temp dir
# STORE_ORDER="postgres bbolt" puts PostgreSQL first in every alternation
# (to see the order's effect on a busy machine).
#
# Both servers run the same binary and CA, with every write durable: bbolt
# fsyncs each commit, PostgreSQL (scripts/pg-test-cluster: fsync on,
# synchronous_commit on) commits before each answer. The OCSP runs ask
# about serials already answered once, so both answer from the replica's
# local pre-signed cache (bbolt in both cases); they measure that the
# shared store stays off the hot path. Needs go, curl, openssl and Debian's
# postgresql (scripts/pg-test-cluster installs it).
set -euo pipefail

counts="400 1000"
ocspn=20000
repeats=1
keep=0
while getopts "n:o:r:Kh" opt; do
	case $opt in
	n) counts=$OPTARG ;;
	o) ocspn=$OPTARG ;;
	r) repeats=$OPTARG ;;
	K) keep=1 ;;
	*)
		sed -n '2,12s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	esac
done
read -r n8 n64 <<<"$counts"
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/certgate-store-bench.XXXXXX)
pgdir=$work-pg
pids=()
log() { echo "store-compare.sh: $*" >&2; }
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	"$repo/scripts/pg-test-cluster" stop "$pgdir" >/dev/null 2>&1 || true
	if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# shellcheck source=integration/bench/lib.sh
. "$repo/integration/bench/lib.sh"

log "building certgate, estload, ocspload"
(cd "$repo" && go build -o "$work/certgate" ./cmd/certgate && go build -o "$work/estload" ./cmd/estload &&
	go build -o "$work/ocspload" ./cmd/ocspload)
"$work/certgate" ca init --data-dir "$work/ca-home" >/dev/null
dsn=$("$repo/scripts/pg-test-cluster" start "$pgdir")

# serve NAME STORE: starts certgate on free ports; sets port_$NAME, est_$NAME.
serve() {
	local name=$1 store=$2 p1 p2 data=$work/$1
	mkdir -p "$data"
	cat >"$work/$name.yaml" <<YAML
ca: {dir: $work/ca-home/ca}
store: {type: $store, dsn_env: BENCH_DSN}
profiles:
  - {name: default, validator: {secrets_env: BENCH_CHALLENGE}}
YAML
	if [ "$store" = bbolt ]; then sed -i '/^store:/d' "$work/$name.yaml"; fi
	p1=$(free_port)
	p2=$(free_port)
	BENCH_DSN=$dsn BENCH_CHALLENGE=bench-challenge CERTGATE_LISTEN=127.0.0.1:$p1 CERTGATE_EST_LISTEN=127.0.0.1:$p2 \
		CERTGATE_ADMIN_API_LISTEN=off CERTGATE_DATA_DIR=$data CERTGATE_LOG_LEVEL=warn \
		"$work/certgate" serve --config "$work/$name.yaml" >"$work/$name.log" 2>&1 &
	pids+=($!)
	wait_for $! "$name" 150 curl -fsS "http://127.0.0.1:$p1/readyz"
	eval "port_$name=$p1 est_$name=$p2"
}

# field JSON KEY: a number from estload's or ocspload's JSON line.
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1" | awk '{ printf "%.1f", $1 }'; }

# Both servers run at once and every measure alternates between them,
# -r times, so that drift of a busy machine hits both alike; each cell is
# the median of its runs.
order=${STORE_ORDER:-"bbolt postgres"}
for store in $order; do
	serve "$store" "$store"
done
echo bench-challenge >"$work/pass"
declare -A runs
# record KEY JSON: keeps one run's rate and p99 under KEY.
record() {
	local r p
	r=$(field "$2" enrollments_per_second)
	[ -z "$r" ] && r=$(field "$2" responses_per_second)
	p=$(field "$2" p99_ms)
	runs[$1]="${runs[$1]:-}$r $p"$'\n'
}
for rep in $(seq 1 "$repeats"); do
	for c in 8 64; do
		n=$n8
		[ "$c" = 64 ] && n=$n64
		for store in $order; do
			estv=est_$store
			log "run $rep/$repeats, $store: EST c=$c n=$n"
			record "$store-$c" "$("$work/estload" -url "https://127.0.0.1:${!estv}/.well-known/est" -cacert "$work/ca-home/ca/root.crt" \
				-pass-file "$work/pass" -c "$c" -n "$n" -w "$c" -json)"
		done
	done
done
for store in $order; do
	"$work/certgate" certs list --json --limit 2000 --config "$work/$store.yaml" --data-dir "$work/$store" 2>/dev/null |
		sed -n 's/.*"serial": "\([0-9a-f]*\)".*/\1/p' >"$work/serials-$store.txt" || true
	if [ ! -s "$work/serials-$store.txt" ]; then
		# The CLI reaches the running server over its admin socket.
		BENCH_DSN=$dsn "$work/certgate" certs list --json --limit 2000 --config "$work/$store.yaml" --data-dir "$work/$store" |
			sed -n 's/.*"serial": "\([0-9a-f]*\)".*/\1/p' >"$work/serials-$store.txt"
	fi
	portv=port_$store
	log "$store: OCSP warm-up"
	"$work/ocspload" run -url "http://127.0.0.1:${!portv}/ocsp" -issuer "$work/ca-home/ca/ca.crt" -serials "$work/serials-$store.txt" \
		-sample 500 -c 8 -n 1000 -client raw >/dev/null
done
for rep in $(seq 1 "$repeats"); do
	for store in $order; do
		portv=port_$store
		log "run $rep/$repeats, $store: OCSP c=8 n=$ocspn"
		record "$store-ocsp" "$("$work/ocspload" run -url "http://127.0.0.1:${!portv}/ocsp" -issuer "$work/ca-home/ca/ca.crt" \
			-serials "$work/serials-$store.txt" -sample 500 -c 8 -n "$ocspn" -client raw -json)"
	done
done
# median KEY COLUMN: the median of one column (1 rate, 2 p99) of KEY's runs.
median() {
	printf '%s' "${runs[$1]}" | awk -v col="$2" 'NF { print $col }' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
declare -A rate p99
for k in 8 64 ocsp; do
	for store in bbolt postgres; do
		rate[$store-$k]=$(median "$store-$k" 1)
		p99[$store-$k]=$(median "$store-$k" 2)
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "| measure | bbolt | PostgreSQL | PostgreSQL ÷ bbolt |"
echo "|---|---:|---:|---:|"
for k in 8 64; do
	echo "| EST enroll/s, c=$k | ${rate[bbolt-$k]} | ${rate[postgres-$k]} | $(ratio "${rate[postgres-$k]}" "${rate[bbolt-$k]}") |"
	echo "| EST p99 ms, c=$k | ${p99[bbolt-$k]} | ${p99[postgres-$k]} | $(ratio "${p99[postgres-$k]}" "${p99[bbolt-$k]}") |"
done
echo "| OCSP responses/s (cached, c=8) | ${rate[bbolt-ocsp]} | ${rate[postgres-ocsp]} | $(ratio "${rate[postgres-ocsp]}" "${rate[bbolt-ocsp]}") |"
echo "| OCSP p99 ms | ${p99[bbolt-ocsp]} | ${p99[postgres-ocsp]} | $(ratio "${p99[postgres-ocsp]}" "${p99[bbolt-ocsp]}") |"
echo
echo "machine: $(nproc) CPUs; both servers up throughout, runs alternating ($order), median of $repeats; load after: $(cut -d' ' -f1-3 /proc/loadavg)"

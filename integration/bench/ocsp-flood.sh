#!/usr/bin/env bash
# ocsp-flood.sh: what a flood of OCSP requests that must be signed does to
# the cached answers relying parties get, for each ocsp.max_signing. The
# flood asks about serials certgate never issued: each "unknown" answer
# costs an RSA signature and is never cached, and anyone can send them.
#
# Usage: integration/bench/ocsp-flood.sh [-N 10000] [-S "0 1024"] [-f 64]
#                  [-c 8] [-n 40000] [-K]
#   -N  certificates seeded; 1000 of them are the cached serials asked about
#   -S  ocsp.max_signing values to compare: 0 is the default (half the
#       CPUs, at least one), 1024 is in effect unbounded
#   -f  flooding clients, each sending unknown serials one at a time
#   -c  clients asking about cached serials    -n  their requests per run
#   -K  keep the temp dir
#
# For each value: certgate starts on the seeded store, the cached serials
# are asked once (warm-up), then measured alone, then measured again while
# the flood runs; the flood is stopped after that run. Prints a markdown
# table: cached answers/s, p99 and slowest, alone and during the flood, and
# the flood's answers/s and tryLater count. Everything is on 127.0.0.1.
# Needs go and curl.
set -euo pipefail

seed_n=10000
settings="0 1024"
flooders=64
conc=8
count=40000
keep=0
while getopts "N:S:f:c:n:Kh" opt; do
	case $opt in
	N) seed_n=$OPTARG ;;
	S) settings=$OPTARG ;;
	f) flooders=$OPTARG ;;
	c) conc=$OPTARG ;;
	n) count=$OPTARG ;;
	K) keep=1 ;;
	*)
		sed -n '2,20s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	esac
done
for v in "$seed_n" "$flooders" "$conc" "$count"; do
	if ! [[ $v =~ ^[1-9][0-9]*$ ]]; then
		echo "ocsp-flood.sh: -N, -f, -c and -n want positive numbers" >&2
		exit 2
	fi
done

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/certgate-ocsp-flood.XXXXXX)
pids=()
log() { echo "ocsp-flood.sh: $*" >&2; }
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# shellcheck source=integration/bench/lib.sh
. "$repo/integration/bench/lib.sh"

log "building certgate and ocspload"
(cd "$repo" && go build -o "$work/certgate" ./cmd/certgate && go build -o "$work/ocspload" ./cmd/ocspload)
data=$work/certgate-data
seed=$work/seed
"$work/certgate" ca init --data-dir "$data" >"$work/ca-init.log"
log "seeding $seed_n certificates"
"$work/ocspload" seed -data-dir "$data" -n "$seed_n" -sample 1000 -out "$seed" >"$work/seed.out" 2>"$work/seed.log"
# Random 128-bit serials: certgate's own are 159-bit, so none was issued.
head -c $((16 * 20000)) /dev/urandom | od -An -v -tx1 -w16 | tr -d ' ' >"$work/unknown.txt"

# field prints one scalar of an ocspload -json line; num rounds it.
field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1" | tr -d '"'; }
num() { LC_ALL=C printf "%.${3:-1}f" "$(field "$1" "$2")"; }
load() {
	local out=$1
	shift
	"$work/ocspload" run -issuer "$seed/issuer.pem" -sample 0 -client raw -json "$@" >"$out" || [ $? -eq 1 ]
}

rows=()
for s in $settings; do
	log "ocsp.max_signing $s"
	port=$(free_port)
	CERTGATE_OCSP_MAX_SIGNING=$s CERTGATE_LISTEN=127.0.0.1:$port CERTGATE_EST_LISTEN=off CERTGATE_ADMIN_API_LISTEN=off \
		CERTGATE_DATA_DIR="$data" "$work/certgate" serve >"$work/certgate.out" 2>"$work/certgate.log" &
	cg=$!
	pids+=("$cg")
	wait_for "$cg" certgate 300 accepts "$port"
	url=http://127.0.0.1:$port/ocsp
	load "$work/warm-$s.json" -url "$url" -serials "$seed/sample.txt" -c "$conc" -n 2000
	load "$work/alone-$s.json" -url "$url" -serials "$seed/sample.txt" -c "$conc" -n "$count"
	"$work/ocspload" run -issuer "$seed/issuer.pem" -sample 0 -client raw -json -want unknown \
		-url "$url" -serials "$work/unknown.txt" -c "$flooders" -n 200000 >"$work/flood-$s.json" 2>"$work/flood-$s.log" &
	fl=$!
	pids+=("$fl")
	sleep 1
	load "$work/during-$s.json" -url "$url" -serials "$seed/sample.txt" -c "$conc" -n "$count"
	kill -INT "$fl"
	wait "$fl" || true
	trylater=$(curl -s "http://127.0.0.1:$port/metrics" | sed -n 's/^certgate_ocsp_responses_total{cache="none",status="trylater"} //p')
	kill "$cg"
	wait "$cg" || true
	a=$work/alone-$s.json d=$work/during-$s.json f=$work/flood-$s.json
	rows+=("| $s | $(num "$a" responses_per_second 0) | $(num "$a" p99_ms) | $(num "$d" responses_per_second 0) | $(num "$d" p99_ms) | $(num "$d" max_ms) | $(num "$f" responses_per_second 0) | ${trylater:-0} |")
done

echo "| max_signing | cached alone resp/s | p99 ms | cached during flood resp/s | p99 ms | slowest ms | flood answers/s | tryLater |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "- $seed_n certificates seeded; $conc clients ask about 1000 cached serials ($count requests per run); $flooders clients flood with random serials certgate never issued."
echo "- machine: $(nproc) CPUs; client, flood and server share it; load after: $(cut -d' ' -f1-3 /proc/loadavg)."

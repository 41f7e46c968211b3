#!/usr/bin/env bash
# compare.sh: SCEP enrollment throughput of certgate and of micromdm's
# scepserver (Debian package `scep`), measured side by side on this machine
# with cmd/scepload, printed as a markdown table.
#
# Usage: integration/bench/compare.sh [-c "1 8 64"] [-n "100 400 1000"]
#                                     [-w 20] [-k 2048] [-b 3072] [-r 1] [-d DIR] [-K]
#   -c  concurrency levels                  -n  enrollments per level (same order)
#   -w  warm-up enrollments per server      -k  client RSA key bits
#   -b  scepserver CA RSA bits (certgate's issuing CA is RSA 3072 by default)
#   -r  repeat every run this often and report the median-rate run; on a
#       2-core machine one run's rate can swing by 2x, so use 3 or 5
#   -d  parent of the temp dir holding both data dirs (default $TMPDIR or
#       /tmp); /dev/shm takes the disk, and so fsync, out of the comparison
#   -K  keep the temp dir (logs, depots, JSON lines) and print its path
#
# Everything listens on and is sent to 127.0.0.1 only, and every run is
# bounded by its -n. Needs go, curl and scepserver (apt-get install scep curl).
#
# What the two servers do per enrollment, so the numbers are read fairly:
# - certgate records each certificate in bbolt, which fsyncs every write
#   transaction (a reservation before signing and the issued certificate
#   after), so an enrollment it answers SUCCESS for survives a power cut;
#   concurrent enrollments share commits (group commit in store/bolt).
# - scepserver's file depot never calls fsync or fdatasync (checked with
#   strace -e trace=fsync,fdatasync on 2.1.0): it rewrites depot/serial,
#   scans and rewrites index.txt and writes one PEM per certificate through
#   the page cache, and it re-reads and re-parses ca.pem and ca.key on every
#   request. index.txt is scanned linearly twice per request, so scepserver
#   slows as its depot grows over the runs.
# - scepserver 2.1.0 takes no lock around serial allocation: concurrent
#   enrollments can get the same serial number or fail with
#   "open depot/serial: file exists". The table counts both (the "ok" and
#   "dup serials" columns); its rate counts only successful enrollments.
# - scepserver has no listen-address flag and binds all interfaces on its
#   port; only 127.0.0.1 is ever sent traffic.
set -euo pipefail

levels="1 8 64"
counts="100 400 1000"
warmup=20
key_bits=2048
ss_ca_bits=3072
keep=0
repeats=1
parent=${TMPDIR:-/tmp}
while getopts "c:n:w:k:b:r:d:Kh" opt; do
	case $opt in
	c) levels=$OPTARG ;;
	n) counts=$OPTARG ;;
	w) warmup=$OPTARG ;;
	k) key_bits=$OPTARG ;;
	b) ss_ca_bits=$OPTARG ;;
	r) repeats=$OPTARG ;;
	d) parent=$OPTARG ;;
	K) keep=1 ;;
	h)
		sed -n '2,17s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	*)
		sed -n '2,17s/^# \{0,1\}//p' "$0" >&2
		exit 2
		;;
	esac
done
read -r -a level_list <<<"$levels"
read -r -a count_list <<<"$counts"
if ! [[ $repeats =~ ^[1-9][0-9]*$ ]]; then
	echo "compare.sh: -r wants a positive count" >&2
	exit 2
fi
if [ "${#level_list[@]}" -ne "${#count_list[@]}" ]; then
	echo "compare.sh: -c and -n need the same number of values" >&2
	exit 2
fi
for tool in go curl scepserver; do
	if ! command -v "$tool" >/dev/null; then
		echo "compare.sh: $tool not found (apt-get install scep curl; Go from /usr/local/go/bin)" >&2
		exit 2
	fi
done

log() { echo "compare.sh: $*" >&2; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "$parent/certgate-bench.XXXXXX")
cg_pid=""
ss_pid=""
cleanup() {
	local pid
	for pid in $cg_pid $ss_pid; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $cg_pid $ss_pid; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "$keep" = 1 ]; then
		log "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "building certgate and scepload"
(cd "$repo" && go build -o "$work/certgate" ./cmd/certgate && go build -o "$work/scepload" ./cmd/scepload)

# shellcheck source=integration/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# wait_caps polls GetCACaps until the server answers (at most ~60 s; a
# first certgate start generates its CA keys).
wait_caps() {
	wait_for "$2" "$3" 300 curl -fsS --max-time 2 "$1?operation=GetCACaps"
}

# certgate, on an ephemeral port it reports in its first stdout line.
mkdir -p "$work/certgate-data"
CERTGATE_LISTEN=127.0.0.1:0 CERTGATE_EST_LISTEN=off CERTGATE_ADMIN_API_LISTEN=off CERTGATE_DATA_DIR="$work/certgate-data" \
	"$work/certgate" serve >"$work/certgate.out" 2>"$work/certgate.log" &
cg_pid=$!
cg_addr=""
for _ in $(seq 1 300); do
	cg_addr=$(sed -n '1s/^certgate .* listening on \(.*\)$/\1/p' "$work/certgate.out" 2>/dev/null || true)
	[ -n "$cg_addr" ] && break
	kill -0 "$cg_pid" 2>/dev/null || break
	sleep 0.2
done
if [ -z "$cg_addr" ]; then
	log "certgate did not start; its log:"
	cat "$work/certgate.log" >&2
	exit 1
fi
cg_url="http://$cg_addr/scep"
wait_caps "$cg_url" "$cg_pid" certgate
# The challenge file holds comment lines and one secret per line.
cg_challenge=$(grep -v '^#' "$work/certgate-data/challenge" | grep -m1 .)

# scepserver, with its own depot and a CA key as large as certgate's.
ss_challenge=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
scepserver ca -init -depot "$work/scepserver-depot" -keySize "$ss_ca_bits" >"$work/scepserver-ca.log" 2>&1
ss_port=$(free_port)
scepserver -depot "$work/scepserver-depot" -port "$ss_port" -challenge "$ss_challenge" \
	>"$work/scepserver.log" 2>&1 &
ss_pid=$!
ss_url="http://127.0.0.1:$ss_port/scep"
wait_caps "$ss_url" "$ss_pid" scepserver

# scepload exits 1 when some enrollments failed; that is data, not an error.
load() {
	local out=$1
	shift
	"$work/scepload" -key-bits "$key_bits" -json "$@" >"$out" || [ $? -eq 1 ]
}
# field prints one scalar of a scepload -json line.
field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1" | tr -d '"'; }
cacerts() { sed -n 's/.*"ca_certs":\[\([^]]*\)\].*/\1/p' "$1" | sed 's/","/; /g' | tr -d '"'; }

for s in certgate scepserver; do
	log "warming up $s with $warmup enrollments"
	if [ "$s" = certgate ]; then
		load "$work/warmup-$s.json" -url "$cg_url" -challenge "$cg_challenge" -c 4 -n "$warmup"
	else
		load "$work/warmup-$s.json" -url "$ss_url" -challenge "$ss_challenge" -c 4 -n "$warmup"
	fi
done

# Runs alternate between the servers so that slow drift of the machine
# (other tenants, page cache, scepserver's growing index.txt) hits both.
for rep in $(seq 1 "$repeats"); do
	for i in "${!level_list[@]}"; do
		c=${level_list[$i]}
		n=${count_list[$i]}
		for s in certgate scepserver; do
			log "run $rep/$repeats, concurrency $c, $n enrollments: $s"
			if [ "$s" = certgate ]; then
				load "$work/run-$s-$c-$rep.json" -url "$cg_url" -challenge "$cg_challenge" -c "$c" -n "$n"
			else
				load "$work/run-$s-$c-$rep.json" -url "$ss_url" -challenge "$ss_challenge" -c "$c" -n "$n"
			fi
		done
	done
done

# median_run prints the JSON file of the run with the median rate.
median_run() {
	local s=$1 c=$2 rep
	for rep in $(seq 1 "$repeats"); do
		f=$work/run-$s-$c-$rep.json
		echo "$(field "$f" enrollments_per_second) $f"
	done | sort -g | sed -n "$(((repeats + 1) / 2))p" | cut -d' ' -f2
}

echo "| server | concurrency | ok / n | dup serials | enrollments/s | p50 ms | p99 ms | certgate/scepserver |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for c in "${level_list[@]}"; do
	cg=$(median_run certgate "$c")
	ss=$(median_run scepserver "$c")
	ratio=$(awk -v a="$(field "$cg" enrollments_per_second)" -v b="$(field "$ss" enrollments_per_second)" \
		'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }')
	for f in "$cg" "$ss"; do
		s=certgate r=$ratio
		[ "$f" = "$ss" ] && s=scepserver r="—"
		printf "| %s | %s | %s / %s | %s | %.1f | %.1f | %.1f | %s |\n" "$s" "$c" \
			"$(field "$f" ok)" "$(field "$f" total)" "$(field "$f" duplicate_serials)" \
			"$(field "$f" enrollments_per_second)" "$(field "$f" p50_ms)" "$(field "$f" p99_ms)" "$r"
	done
done

# Certificates whose serial an earlier entry already had, counted the way
# scepload counts them within one run, but over the whole session.
ss_dups=$(cut -f4 "$work/scepserver-depot/index.txt" | sort | uniq -c | awk '$1 > 1 { d += $1 - 1 } END { print d + 0 }')
first=$work/run-certgate-${level_list[0]}-1.json
cat <<EOF

- certgate: GetCACert $(cacerts "$first"); bbolt store, every write fsync'd before the reply (concurrent writes share a group commit).
- scepserver $(scepserver -version 2>&1 | head -1): GetCACert $(cacerts "$work/run-scepserver-${level_list[0]}-1.json"); file depot, no fsync; $ss_dups of the certificates in its index.txt (warm-up and all runs) repeat an earlier serial number.
- each row is the run with the median rate of $repeats; client: scepload, POST, $(field "$first" cipher) envelope, RSA-$key_bits client keys from a pre-generated pool; PKCSReqs built before and CertReps checked after the timed phase; latency is the HTTP round trip only; rate counts successful enrollments only.
- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); client and both servers share it; data on $(stat -f -c %T "$work").
EOF

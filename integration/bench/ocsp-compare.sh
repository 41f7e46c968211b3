#!/usr/bin/env bash
# ocsp-compare.sh: OCSP responses/s and latency of certgate, the `openssl
# ocsp` responder and cfssl's `ocspserve`, measured side by side on this
# machine with cmd/ocspload against the same certificates, printed as a
# markdown table with certgate's ratio to each; plus the floor, a server
# that answers with canned bytes (`ocspload floor`), showing what the
# machine itself allows.
#
# Usage: integration/bench/ocsp-compare.sh [-c "1 8 64"] [-n "20000 40000 60000"]
#                  [-N 100000] [-s 1000] [-b 2048] [-m POST] [-C raw] [-M 2] [-r 1] [-d DIR] [-K]
#   -c  concurrency levels                -n  requests per level (same order;
#       each run should last a second or more: a run of a few tenths of a
#       second at c=1 measured the connection warming up as much as the
#       steady state, and swung ±25% between repeats)
#   -N  certificates seeded into certgate's store (and given to the others)
#   -s  serials asked about, drawn from the seeded ones; every one is asked
#       of certgate once before timing, so its runs measure cached answers
#   -b  CA RSA bits: 3072 is certgate's own `ca init`; other sizes import
#       an openssl-made CA. The CA key signs only certificates, never an
#       OCSP response here, so it changes the seed time, not the numbers
#   -m  methods, "POST", "GET" or "POST GET"
#   -C  ocspload clients, "raw", "http" or "http raw": raw writes
#       pre-serialized HTTP/1.1 and costs the shared CPU several times less
#       per request than Go's net/http client, which would otherwise take
#       about one of two cores from whichever responder is measured
#   -M  openssl ocsp -multi (responder processes; default: nproc)
#   -r  repeat every run this often and report the median-rate run
#   -d  parent of the temp dir (default $TMPDIR or /tmp)
#   -K  keep the temp dir (logs, seed files, JSON lines) and print its path
#
# Everything listens on and is sent to 127.0.0.1 only (openssl's -port
# binds every interface; only 127.0.0.1 is ever sent traffic); every run
# is bounded by its -n. Needs go, openssl and curl. cfssl is built once
# with `go install github.com/cloudflare/cfssl/cmd/cfssl@v1.6.5` into
# $TOOLS_DIR (default /tmp/tools), never into certgate's module.
#
# What each responder does per request, so the numbers are read fairly:
# - All three sign with a delegated RSA-2048 responder whose certificate
#   the CA issued and which every response embeds (certgate's default,
#   ocsp.signer: delegated); the seed makes one for openssl and cfssl.
# - certgate answers from its in-memory cache of pre-signed responses
#   (warmed first; bbolt holds them too), no signature per request.
# - cfssl ocspserve answers from a map of pre-signed responses the seed
#   wrote (its fast path), but re-parses the response, embedded
#   certificate and signature check included, on every request.
# - openssl ocsp signs every response when asked (it cannot serve
#   pre-signed ones), answers HTTP/1.0 and closes the connection after
#   each response (no keep-alive in OpenSSL 3.0's ocsp responder).
set -euo pipefail

levels="1 8 64"
counts="20000 40000 60000"
seed_n=100000
sample=1000
ca_bits=2048
methods="POST"
clients="raw"
multi=$(nproc)
repeats=1
keep=0
parent=${TMPDIR:-/tmp}
tools=${TOOLS_DIR:-/tmp/tools}
cfssl_version=v1.6.5
usage() { sed -n '2,29s/^# \{0,1\}//p' "$0"; }
while getopts "c:n:N:s:b:m:C:M:r:d:Kh" opt; do
	case $opt in
	c) levels=$OPTARG ;;
	n) counts=$OPTARG ;;
	N) seed_n=$OPTARG ;;
	s) sample=$OPTARG ;;
	b) ca_bits=$OPTARG ;;
	m) methods=$OPTARG ;;
	C) clients=$OPTARG ;;
	M) multi=$OPTARG ;;
	r) repeats=$OPTARG ;;
	d) parent=$OPTARG ;;
	K) keep=1 ;;
	h)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done
read -r -a level_list <<<"$levels"
read -r -a count_list <<<"$counts"
read -r -a method_list <<<"$methods"
read -r -a client_list <<<"$clients"
for v in "$seed_n" "$sample" "$ca_bits" "$multi" "$repeats"; do
	if ! [[ $v =~ ^[1-9][0-9]*$ ]]; then
		echo "ocsp-compare.sh: -N, -s, -b, -M and -r want positive numbers" >&2
		exit 2
	fi
done
if [ "${#level_list[@]}" -ne "${#count_list[@]}" ]; then
	echo "ocsp-compare.sh: -c and -n need the same number of values" >&2
	exit 2
fi
for m in "${method_list[@]}"; do
	case $m in POST | GET) ;; *)
		echo "ocsp-compare.sh: -m takes POST and/or GET" >&2
		exit 2
		;;
	esac
done
for cl in "${client_list[@]}"; do
	case $cl in raw | http) ;; *)
		echo "ocsp-compare.sh: -C takes raw and/or http" >&2
		exit 2
		;;
	esac
done
for tool in go openssl curl; do
	if ! command -v "$tool" >/dev/null; then
		echo "ocsp-compare.sh: $tool not found (apt-get install openssl curl; Go from /usr/local/go/bin)" >&2
		exit 2
	fi
done

log() { echo "ocsp-compare.sh: $*" >&2; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "$parent/certgate-ocsp-bench.XXXXXX")
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		# openssl -multi forks its responders; end them by parent id too.
		pkill -TERM -P "$pid" 2>/dev/null || true
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
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

# cfssl: the pinned release, built outside certgate's module. If the
# module proxy refuses `go install pkg@version`, a throwaway module of
# its own requires it instead (see shared TOOLING.md, globalsign est).
cfssl=$tools/cfssl
cfssl_ok() { [ -x "$cfssl" ] && go version -m "$cfssl" 2>/dev/null | grep -Eq "github.com/cloudflare/cfssl[[:space:]]+$cfssl_version([[:space:]]|$)"; }
if ! cfssl_ok; then
	log "building cfssl $cfssl_version into $tools"
	mkdir -p "$tools"
	if ! (cd "$work" && GOBIN="$tools" GOFLAGS=-mod=mod GOWORK=off go install "github.com/cloudflare/cfssl/cmd/cfssl@$cfssl_version") >"$work/cfssl-build.log" 2>&1; then
		mkdir -p "$work/cfssl-mod"
		(cd "$work/cfssl-mod" && printf 'module cfsslbuild\n\ngo 1.22\n' >go.mod &&
			GOWORK=off go get "github.com/cloudflare/cfssl/cmd/cfssl@$cfssl_version" &&
			GOWORK=off go build -o "$cfssl" github.com/cloudflare/cfssl/cmd/cfssl) >>"$work/cfssl-build.log" 2>&1 || {
			log "could not build cfssl; its log:"
			cat "$work/cfssl-build.log" >&2
			exit 1
		}
	fi
	cfssl_ok || {
		log "$cfssl is not cfssl $cfssl_version"
		exit 1
	}
fi

log "building certgate and ocspload"
(cd "$repo" && go build -o "$work/certgate" ./cmd/certgate && go build -o "$work/ocspload" ./cmd/ocspload)

# The CA, before certgate first runs.
data=$work/certgate-data
if [ "$ca_bits" = 3072 ]; then
	"$work/certgate" ca init --data-dir "$data" >"$work/ca-init.log"
else
	cat >"$work/ca.cnf" <<EOF
[req]
distinguished_name = dn
x509_extensions = v3
prompt = no
[dn]
CN = certgate bench CA (RSA-$ca_bits)
[v3]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
EOF
	openssl req -x509 -newkey "rsa:$ca_bits" -nodes -days 365 -config "$work/ca.cnf" \
		-keyout "$work/bench-ca.key" -out "$work/bench-ca.crt" 2>"$work/ca-req.log"
	"$work/certgate" ca init --data-dir "$data" --import-cert "$work/bench-ca.crt" --import-key "$work/bench-ca.key" >"$work/ca-init.log"
fi

seed=$work/seed
log "seeding $seed_n certificates (certgate stopped)"
t0=$(date +%s.%N)
"$work/ocspload" seed -data-dir "$data" -n "$seed_n" -sample "$sample" -out "$seed" >"$work/seed.out" 2>"$work/seed.log"
seed_secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
cat "$work/seed.out" >&2

# shellcheck source=integration/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# wait_port waits (at most ~120 s: cfssl parses every response at start)
# until something accepts on 127.0.0.1:port.
wait_port() {
	wait_for "$2" "$3" 600 accepts "$1"
}

# certgate, on an ephemeral port it reports in its first stdout line.
CERTGATE_LISTEN=127.0.0.1:0 CERTGATE_EST_LISTEN=off CERTGATE_ADMIN_API_LISTEN=off CERTGATE_DATA_DIR="$data" \
	"$work/certgate" serve >"$work/certgate.out" 2>"$work/certgate.log" &
cg_pid=$!
pids+=("$cg_pid")
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
wait_port "${cg_addr##*:}" "$cg_pid" certgate

os_port=$(free_port)
openssl ocsp -index "$seed/index.txt" -port "$os_port" -CA "$seed/issuer.pem" \
	-rsigner "$seed/responder.crt" -rkey "$seed/responder.key" -ndays 1 -multi "$multi" \
	>"$work/openssl.log" 2>&1 &
os_pid=$!
pids+=("$os_pid")
wait_port "$os_port" "$os_pid" openssl

cf_port=$(free_port)
"$cfssl" ocspserve -address 127.0.0.1 -port "$cf_port" -responses "$seed/responses.b64" >"$work/cfssl.log" 2>&1 &
cf_pid=$!
pids+=("$cf_pid")
wait_port "$cf_port" "$cf_pid" cfssl
cf_loaded=$(sed -n 's/.*Read \([0-9]*\) OCSP responses.*/\1/p' "$work/cfssl.log")

servers=(certgate openssl cfssl floor)
declare -A url=(
	[certgate]="http://$cg_addr/ocsp"
	[openssl]="http://127.0.0.1:$os_port/"
	[cfssl]="http://127.0.0.1:$cf_port/"
)
# serials_for gives the floor, which answers every request with one canned
# response, the only serial that response is about.
serials_for() {
	[ "$1" = floor ] && echo "-serials $work/floor-serial.txt"
	true
}

# ocspload exits 1 when some responses failed; that is data, not an error.
load() {
	local out=$1
	shift
	"$work/ocspload" run -issuer "$seed/issuer.pem" -serials "$seed/sample.txt" -sample 0 -json "$@" >"$out" || [ $? -eq 1 ]
}
# field prints one scalar of an ocspload -json line.
field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1" | tr -d '"'; }

# certgate signs each serial's response on first request and caches it:
# one pass over the sample fills the cache, and a second checks that
# it now answers the same bytes every time.
log "warming up certgate's cache with the $sample sampled serials"
load "$work/warmup-certgate-1.json" -url "${url[certgate]}" -c 8 -n "$sample"
load "$work/warmup-certgate-2.json" -url "${url[certgate]}" -c 8 -n "$sample"
for s in openssl cfssl; do
	load "$work/warmup-$s.json" -url "${url[$s]}" -c 8 -n 500
done

# The floor: ocspload's canned-answer server, with certgate's cached
# answer for the first sampled serial (see cmd/ocspload/floor.go).
head -1 "$seed/sample.txt" >"$work/floor-serial.txt"
openssl ocsp -issuer "$seed/issuer.pem" -serial "0x$(cat "$work/floor-serial.txt")" -no_nonce -reqout "$work/floor-req.der" >/dev/null 2>&1
curl -sS --fail -H 'Content-Type: application/ocsp-request' --data-binary "@$work/floor-req.der" -o "$work/floor.der" "${url[certgate]}"
"$work/ocspload" floor -response "$work/floor.der" >"$work/floor.out" 2>"$work/floor.log" &
fl_pid=$!
pids+=("$fl_pid")
fl_addr=""
for _ in $(seq 1 100); do
	fl_addr=$(head -1 "$work/floor.out" 2>/dev/null || true)
	[ -n "$fl_addr" ] && break
	sleep 0.1
done
if [ -z "$fl_addr" ]; then
	log "the floor server did not start: $(cat "$work/floor.log")"
	exit 1
fi
url[floor]="http://$fl_addr/ocsp"
# shellcheck disable=SC2046 # serials_for prints flags to split
load "$work/warmup-floor.json" -url "${url[floor]}" -c 8 -n 500 $(serials_for floor)
for f in "$work"/warmup-*.json; do
	if [ "$(field "$f" errors)" != 0 ]; then
		log "warm-up $(basename "$f") had failures: $(cat "$f")"
		exit 1
	fi
done

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# Runs alternate between the servers so that drift of the machine hits
# all of them alike.
for rep in $(seq 1 "$repeats"); do
	for cl in "${client_list[@]}"; do
		for m in "${method_list[@]}"; do
			get=()
			[ "$m" = GET ] && get=(-get)
			for i in "${!level_list[@]}"; do
				c=${level_list[$i]}
				n=${count_list[$i]}
				for s in "${servers[@]}"; do
					log "run $rep/$repeats, $cl client, $m, concurrency $c, $n requests: $s"
					# shellcheck disable=SC2046 # serials_for prints flags to split
					load "$work/run-$s-$cl-$m-$c-$rep.json" -url "${url[$s]}" -c "$c" -n "$n" -name "$s" -client "$cl" "${get[@]}" $(serials_for "$s")
				done
			done
		done
	done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# median_run prints the JSON file of the run with the median rate.
median_run() {
	local s=$1 cl=$2 m=$3 c=$4 rep f
	for rep in $(seq 1 "$repeats"); do
		f=$work/run-$s-$cl-$m-$c-$rep.json
		echo "$(field "$f" responses_per_second) $f"
	done | sort -g | sed -n "$(((repeats + 1) / 2))p" | cut -d' ' -f2
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f×", a / b; else print "n/a" }'; }

echo "| client | method | concurrency | server | ok / n | responses/s | p50 ms | p99 ms | client CPU µs/req | certgate ÷ server |"
echo "|---|---|---:|---|---:|---:|---:|---:|---:|---:|"
aims=""
floors=""
for cl in "${client_list[@]}"; do
	for m in "${method_list[@]}"; do
		for c in "${level_list[@]}"; do
			cg=$(median_run certgate "$cl" "$m" "$c")
			cg_rate=$(field "$cg" responses_per_second)
			for s in "${servers[@]}"; do
				f=$(median_run "$s" "$cl" "$m" "$c")
				r="—"
				if [ "$s" = floor ]; then
					r=$(ratio "$cg_rate" "$(field "$f" responses_per_second)")
					os_rate=$(field "$(median_run openssl "$cl" "$m" "$c")" responses_per_second)
					floors="$floors- $cl client, $m, c=$c: floor ÷ openssl $(ratio "$(field "$f" responses_per_second)" "$os_rate"), certgate ÷ floor $r"$'\n'
				elif [ "$s" != certgate ]; then
					r=$(ratio "$cg_rate" "$(field "$f" responses_per_second)")
					want=10
					[ "$s" = cfssl ] && want=2
					met=$(awk -v a="$cg_rate" -v b="$(field "$f" responses_per_second)" -v w="$want" 'BEGIN { print (b > 0 && a >= w * b) ? "met" : "missed" }')
					aims="$aims- $cl client, $m, c=$c: ${want}× $s $met ($r)"$'\n'
				fi
				printf "| %s | %s | %s | %s | %s / %s | %.0f | %.2f | %.2f | %.0f | %s |\n" "$cl" "$m" "$c" "$s" \
					"$(field "$f" ok)" "$(field "$f" total)" "$(field "$f" responses_per_second)" \
					"$(field "$f" p50_ms)" "$(field "$f" p99_ms)" "$(field "$f" client_cpu_us_per_request)" "$r"
			done
		done
	done
done

cat <<EOF

Aim (certgate ≥ 10× openssl and ≥ 2× cfssl):
$aims
The floor (one canned answer, no OCSP work, one write per request) is
the most any responder could reach on this machine with this client;
floor ÷ openssl is the highest ratio to openssl possible here:
$floors
- $("$work/certgate" version 2>&1 | head -1): $(grep -c . "$seed/serials.txt") seeded certificates in bbolt (seeded in ${seed_secs}s by ocspload seed); default config (ocsp.signer delegated, RSA-2048 responder); the $sample sampled serials warmed into its cache first.
- $(openssl version): \`openssl ocsp -index index.txt -multi $multi -ndays 1\` over the same $(grep -c . "$seed/index.txt") certificates, signing every response with the same kind of delegated RSA-2048 responder key; HTTP/1.0, a new connection per request.
- cfssl $cfssl_version ($(go version -m "$cfssl" | sed -n '1s/^[^:]*: //p')): \`cfssl ocspserve -responses\` with $cf_loaded pre-signed responses (same responder kind), keep-alive.
- client: ocspload ($clients), $sample serials drawn from the $seed_n, SHA-1 CertID, no nonce (RFC 5019), c workers with one keep-alive connection each; latency is the HTTP round trip; every distinct response body is checked after timing (status, serial, good, nextUpdate, signature chain to the CA); each row is the median-rate run of $repeats.
- floor: \`ocspload floor\` answering every request with certgate's cached response for one sampled serial (asked about that serial only), keep-alive.
- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); client and the servers share it; load average before/after the runs: $load_start / $load_end; $(go version | cut -d' ' -f3-).
EOF

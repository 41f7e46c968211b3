#!/usr/bin/env bash
# est-compare.sh: EST simpleenroll throughput (RFC 7030 §4.2.1) of certgate
# and of globalsign's estserver v1.0.6, measured side by side on this
# machine with cmd/estload, printed as one markdown table per concurrency.
#
# Usage: integration/bench/est-compare.sh [-c "1 8 64"] [-n "200 800 2000"]
#                  [-w 64] [-k ecdsa] [-s "certgate estserver"] [-r 1] [-d DIR] [-K]
#   -c  concurrency levels                -n  enrollments per level (same order)
#   -w  untimed warm-up enrollments at the start of every run (at least the
#       run's concurrency, so every keep-alive connection and its TLS
#       handshake exists before the clock starts)
#   -k  client key type: ecdsa (P-256) or rsa2048
#   -s  servers to measure; "estserver" alone skips certgate's EST listener
#   -r  repeat every run this often and report the median-rate run; on a
#       2-core machine one run's rate can swing by 2x, so use 3 or 5
#   -d  parent of the temp dir (default $TMPDIR or /tmp); /dev/shm takes the
#       disk, and so fsync, out of the comparison
#   -K  keep the temp dir (logs, configs, JSON lines) and print its path
#
# Everything listens on and is sent to 127.0.0.1 only, and every run is
# bounded by its -n. Needs go, curl, openssl and estserver
# (scripts/install-est-tools builds it into $(go env GOPATH)/bin).
# CERTGATE_BIN=path runs that certgate binary instead of building
# ./cmd/certgate (a release build, or while the tree does not compile).
#
# Both servers sign with the same key: certgate's RSA-3072 issuing CA
# (`certgate ca init`), which estserver loads as its mock CA. Both serve
# TLS under a certificate chaining to certgate's root, the one trust anchor
# estload gets. Clients: HTTP/1.1, one keep-alive TLS connection per worker,
# a fresh CSR per enrollment (made, like the keys, before timing).
#
# What the two servers do per enrollment, so the numbers are read fairly:
# - certgate checks the HTTP Basic password against the profile's challenge
#   (a wrong one gets 403, none 401), then runs the same enroll service as
#   SCEP: it reserves a random serial and records the prepared certificate
#   in bbolt before signing, and records the issued certificate after. bbolt
#   syncs every write transaction before the answer (4 fdatasync per
#   enrollment at concurrency 1 under strace: two commits of data and meta
#   page; concurrent enrollments share commits), so an enrollment it
#   answered survives a power cut. Log level warn: no line per request. Its
#   EST TLS key is ECDSA P-256, like estserver's here.
# - estserver 1.0.6 is globalsign's non-production test server. Its mock CA
#   checks the CSR's signature, signs a certificate with a random 128-bit
#   serial and persists nothing: no file is opened and nothing fsync'd or
#   fdatasync'd per request (strace -f -e trace=fsync,fdatasync,openat,write
#   on a run), it only writes one unbuffered access-log line per request
#   (to a file here, through the page cache).
# - estserver has no authentication: its main.go checks Basic credentials
#   only on /healthcheck and accepts any or none on the EST endpoints. It is
#   sent the same Authorization header and ignores it; the comparison
#   favours it by the cost of certgate's authentication.
# - estserver's rate_limit is 0 here, which leaves its limiter out. Its TLS
#   config prefers P-521 ECDHE; that costs once per connection, not per
#   enrollment.
set -euo pipefail

levels="1 8 64"
counts="200 800 2000"
warmup=64
key=ecdsa
servers="certgate estserver"
keep=0
repeats=1
parent=${TMPDIR:-/tmp}
usage() { sed -n '2,18s/^# \{0,1\}//p' "$0"; }
while getopts "c:n:w:k:s:r:d:Kh" opt; do
	case $opt in
	c) levels=$OPTARG ;;
	n) counts=$OPTARG ;;
	w) warmup=$OPTARG ;;
	k) key=$OPTARG ;;
	s) servers=$OPTARG ;;
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
read -r -a server_list <<<"$servers"
die() {
	echo "est-compare.sh: $*" >&2
	exit 2
}
[[ $repeats =~ ^[1-9][0-9]*$ ]] || die "-r wants a positive count"
[[ $warmup =~ ^[0-9]+$ ]] || die "-w wants a count"
[ "${#level_list[@]}" -eq "${#count_list[@]}" ] || die "-c and -n need the same number of values"
for v in "${level_list[@]}" "${count_list[@]}"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || die "-c and -n want positive numbers"
done
case $key in ecdsa | rsa2048) ;; *) die "-k takes ecdsa or rsa2048" ;; esac
[ "${#server_list[@]}" -gt 0 ] || die "-s names no server"
for s in "${server_list[@]}"; do
	case $s in certgate | estserver) ;; *) die "-s takes certgate and/or estserver" ;; esac
done
has() {
	local s
	for s in "${server_list[@]}"; do
		[ "$s" = "$1" ] && return 0
	done
	return 1
}
for tool in go curl openssl; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install curl openssl; Go from /usr/local/go/bin)"
done
if has estserver; then
	command -v estserver >/dev/null ||
		die "estserver not found: run scripts/install-est-tools and put \$(go env GOPATH)/bin on PATH"
	estserver -version 2>&1 | grep -q '1\.0\.6' ||
		echo "est-compare.sh: warning: $(estserver -version 2>&1 | head -1), not 1.0.6 as the notes describe" >&2
fi

log() { echo "est-compare.sh: $*" >&2; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "$parent/certgate-est-bench.XXXXXX")
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
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

if [ -n "${CERTGATE_BIN:-}" ]; then
	log "building estload; certgate is $CERTGATE_BIN"
	cp "$CERTGATE_BIN" "$work/certgate"
else
	log "building certgate and estload"
	(cd "$repo" && go build -o "$work/certgate" ./cmd/certgate)
fi
(cd "$repo" && go build -o "$work/estload" ./cmd/estload)

# shellcheck source=integration/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The CA both servers sign with, made before certgate first runs.
data=$work/certgate-data
"$work/certgate" ca init --data-dir "$data" >"$work/ca-init.log"
anchor=$data/ca/root.crt

# wait_cacerts waits (at most ~60 s) until GET /cacerts answers over TLS
# verified against the shared anchor: the listener is up and its
# certificate chains where estload will check it.
wait_cacerts() {
	wait_for "$2" "$3" 300 curl -fsS --max-time 2 --cacert "$anchor" -o /dev/null "$1/cacerts"
}

declare -A url=()
declare -A passfile=()

if has certgate; then
	cg_port=$(free_port)
	cg_est_port=$(free_port)
	CERTGATE_LISTEN=127.0.0.1:$cg_port CERTGATE_EST_LISTEN=127.0.0.1:$cg_est_port CERTGATE_ADMIN_API_LISTEN=off \
		CERTGATE_DATA_DIR=$data CERTGATE_LOG_LEVEL=warn \
		"$work/certgate" serve >"$work/certgate.out" 2>"$work/certgate.log" &
	pids+=($!)
	cg_pid=$!
	wait_for "$cg_pid" certgate 300 curl -fsS --max-time 2 "http://127.0.0.1:$cg_port/healthz"
	url[certgate]="https://127.0.0.1:$cg_est_port/.well-known/est"
	if ! wait_cacerts "${url[certgate]}" "$cg_pid" certgate; then
		log "certgate is up on :$cg_port but its EST listener on :$cg_est_port is not (no EST support in this build?); its log:"
		cat "$work/certgate.log" >&2
		exit 1
	fi
	# estload takes the first line of the challenge file that is neither
	# blank nor a comment: certgate's generated static challenge.
	passfile[certgate]=$data/challenge
fi

if has estserver; then
	# estserver's mock CA: issuing certificate first, then the root; its
	# key loader (globalsign/pemfile) reads certgate's PKCS#8 ca.key as is.
	cat "$data/ca/ca.crt" "$data/ca/root.crt" >"$work/estserver-ca.pem"
	cat >"$work/estserver-tls.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = estserver bench TLS (127.0.0.1)
[v3]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
EOF
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -config "$work/estserver-tls.cnf" \
		-keyout "$work/estserver-tls.key" -out "$work/estserver-tls.csr" 2>"$work/estserver-tls.log"
	openssl x509 -req -in "$work/estserver-tls.csr" -CA "$data/ca/ca.crt" -CAkey "$data/ca/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 2 -extfile "$work/estserver-tls.cnf" -extensions v3 \
		-out "$work/estserver-tls.crt" 2>>"$work/estserver-tls.log"
	cat "$work/estserver-tls.crt" "$data/ca/ca.crt" >"$work/estserver-tls-chain.pem"
	es_port=$(free_port)
	cat >"$work/estserver.json" <<EOF
{
    "mock_ca": {
        "certificates": "$work/estserver-ca.pem",
        "private_key": "$data/ca/ca.key"
    },
    "tls": {
        "listen_address": "127.0.0.1:$es_port",
        "certificates": "$work/estserver-tls-chain.pem",
        "private_key": "$work/estserver-tls.key"
    },
    "allowed_hosts": ["127.0.0.1"],
    "healthcheck_password": "$(openssl rand -hex 16)",
    "rate_limit": 0,
    "timeout": 60,
    "log_file": "$work/estserver-requests.log"
}
EOF
	estserver -config "$work/estserver.json" >"$work/estserver.log" 2>&1 &
	pids+=($!)
	es_pid=$!
	url[estserver]="https://127.0.0.1:$es_port/.well-known/est"
	wait_cacerts "${url[estserver]}" "$es_pid" estserver
	# Ignored by estserver (see the header); sent so the requests are alike.
	printf '%s\n' "$(openssl rand -hex 16)" >"$work/estserver-pass"
	passfile[estserver]=$work/estserver-pass
fi

# estload exits 1 when some enrollments failed; that is data, not an error.
load() {
	local out=$1
	shift
	"$work/estload" -json -cacert "$anchor" -key "$key" "$@" >"$out" || [ $? -eq 1 ]
}
# field prints one scalar of an estload -json line.
field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1" | tr -d '"'; }
failures() { sed -n 's/.*"failures":{\([^}]*\)}.*/\1/p' "$1" | tr -d '"' | sed 's/,/, /g; s/:/: /g'; }
issuers() { sed -n 's/.*"issuers":\[\([^]]*\)\].*/\1/p' "$1" | sed 's/","/; /g' | tr -d '"'; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# Runs alternate between the servers so that slow drift of the machine
# (other tenants, page cache) hits both alike.
for rep in $(seq 1 "$repeats"); do
	for i in "${!level_list[@]}"; do
		c=${level_list[$i]}
		n=${count_list[$i]}
		w=$((warmup > c ? warmup : c))
		for s in "${server_list[@]}"; do
			log "run $rep/$repeats, concurrency $c, $n enrollments (+$w warm-up): $s"
			load "$work/run-$s-$c-$rep.json" -url "${url[$s]}" -pass-file "${passfile[$s]}" -c "$c" -n "$n" -w "$w"
		done
	done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# median_run prints the JSON file of the run with the median rate.
median_run() {
	local s=$1 c=$2 rep f
	for rep in $(seq 1 "$repeats"); do
		f=$work/run-$s-$c-$rep.json
		echo "$(field "$f" enrollments_per_second) $f"
	done | sort -g | sed -n "$(((repeats + 1) / 2))p" | cut -d' ' -f2
}

for i in "${!level_list[@]}"; do
	c=${level_list[$i]}
	ratio="n/a"
	if has certgate && has estserver; then
		ratio=$(awk -v a="$(field "$(median_run certgate "$c")" enrollments_per_second)" \
			-v b="$(field "$(median_run estserver "$c")" enrollments_per_second)" \
			'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "n/a" }')
	fi
	echo "### concurrency $c, ${count_list[$i]} enrollments"
	echo
	echo "| server | ok / n | failed | enroll/s | p50 ms | p99 ms | certgate ÷ estserver |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for s in "${server_list[@]}"; do
		f=$(median_run "$s" "$c")
		failed=$(field "$f" failed)
		[ "$failed" != 0 ] && failed="$failed ($(failures "$f"))"
		r="—"
		[ "$s" = certgate ] && r=$ratio
		printf "| %s | %s / %s | %s | %.1f | %.1f | %.1f | %s |\n" "$s" "$(field "$f" ok)" "$(field "$f" total)" \
			"$failed" "$(field "$f" enrollments_per_second)" "$(field "$f" p50_ms)" "$(field "$f" p99_ms)" "$r"
	done
	echo
done

first=${level_list[0]}
echo "Notes:"
if has certgate; then
	echo "- $("$work/certgate" version 2>&1 | head -1): EST on its own TLS listener, Basic password = the static challenge; issued by $(issuers "$work/run-certgate-$first-1.json"); bbolt store, every write fsync'd before the reply."
fi
if has estserver; then
	echo "- $(estserver -version 2>&1 | head -1): mock CA with certgate's issuing CA and key; issued by $(issuers "$work/run-estserver-$first-1.json"); no authentication, nothing persisted, one access-log line per request."
fi
cat <<EOF
- client: estload, $key client keys (a pool of up to 64, a fresh CSR per enrollment), HTTP/1.1 keep-alive, one connection per worker; CSRs built before and answers checked after the timed phase (200, base64 certs-only PKCS#7, certificate for the CSR's key); latency is the HTTP round trip only; rate counts successful enrollments only; each run starts with max(-w $warmup, c) untimed warm-up enrollments; each row is the median-rate run of $repeats.
- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); client and servers share it; data on $(stat -f -c %T "$work"); load average before/after: $load_start / $load_end; $(go version | cut -d' ' -f3-).
EOF

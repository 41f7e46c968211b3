# shellcheck shell=bash disable=SC2154
# lib.sh: helpers the comparison scripts share. Sourced, not run; the caller
# defines log() and $work (where each server's <name>.log is).

# free_port finds a port nothing answers on at 127.0.0.1. It is racy in
# principle; a server that exits at once is caught by wait_for.
free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_for PID NAME TRIES CMD...: polls CMD every 0.2 s, at most TRIES
# times, until it succeeds; fails at once, printing the server's log, if
# PID exits first.
wait_for() {
	local pid=$1 name=$2 tries=$3
	shift 3
	for _ in $(seq 1 "$tries"); do
		if ! kill -0 "$pid" 2>/dev/null; then
			log "$name exited early; its log:"
			cat "$work/$name.log" >&2 || true
			return 1
		fi
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	log "$name did not become ready: $*"
	return 1
}

# accepts PORT: something accepts TCP on 127.0.0.1:PORT.
accepts() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

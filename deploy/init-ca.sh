#!/usr/bin/env bash
# Creates the CA both replicas share (./ca) and the secrets docker compose
# reads (./secrets), once. Needs Go, or a certgate binary on PATH.
set -euo pipefail
cd "$(dirname "$0")"
certgate=${CERTGATE:-certgate}
command -v "$certgate" >/dev/null || certgate="go run ../cmd/certgate"
if [ ! -f ca/ca.crt ]; then
	tmp=$(mktemp -d)
	$certgate ca init --data-dir "$tmp"
	mkdir -p ca && cp "$tmp"/ca/{ca.crt,ca.key,root.crt} ca/ && rm -rf "$tmp"
	chmod 600 ca/ca.key
fi
mkdir -p secrets && chmod 700 secrets
if [ ! -f secrets/pg_password ]; then
	head -c 24 /dev/urandom | base64 | tr -d '/+=' >secrets/pg_password
	echo "postgres://certgate:$(cat secrets/pg_password)@postgres:5432/certgate?sslmode=disable" >secrets/pg_dsn
	head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >secrets/scep_challenge
	chmod 600 secrets/*
fi
echo "CA in ./ca (keep root.key elsewhere: it is not copied); secrets in ./secrets"

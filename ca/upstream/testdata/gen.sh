#!/usr/bin/env bash
# gen.sh regenerates the client-certificate fixtures of clientcert_test.go
# with OpenSSL 3 (an implementation independent of ours). Test keys only.
# Passphrase of every encrypted file: test-pass.
set -euo pipefail
cd "$(dirname "$0")"
pass=pass:test-pass
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
	-subj "/CN=fixture client CA" -days 36500 -addext basicConstraints=critical,CA:TRUE 2>/dev/null
# RSA leaf, key in every PEM form.
openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=fixture gateway" 2>/dev/null
openssl x509 -req -in leaf.csr -CA ca.crt -CAkey ca.key -set_serial 2 -days 36500 -out leaf.crt 2>/dev/null
openssl rsa -in leaf.key -traditional -out leaf-pkcs1.key 2>/dev/null
openssl pkcs8 -topk8 -in leaf.key -v2 aes256 -v2prf hmacWithSHA256 -passout $pass -out leaf-aes.key
openssl pkcs8 -topk8 -in leaf.key -v2 des3 -passout $pass -out leaf-des3.key
openssl rsa -in leaf.key -aes256 -traditional -passout $pass -out leaf-legacy-enc.key 2>/dev/null
cat ca.crt leaf.crt >chain-ca-first.pem
cat leaf.crt leaf.key >combined.pem
# PKCS#12: OpenSSL 3's default (PBES2/AES-256, HMAC-SHA-256) and the
# legacy scheme (RC2-40 certificates, 3DES key, SHA-1 MAC).
openssl pkcs12 -export -in leaf.crt -inkey leaf.key -certfile ca.crt -passout $pass -out leaf.p12
openssl pkcs12 -export -legacy -in leaf.crt -inkey leaf.key -certfile ca.crt -passout $pass -out leaf-legacy.p12
openssl pkcs12 -export -in leaf.crt -inkey leaf.key -macalg sha512 -passout $pass -out leaf-sha512mac.p12
openssl pkcs12 -export -in leaf.crt -inkey leaf.key -passout pass: -out leaf-nopass.p12
# EC leaf with a SEC1 key.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key -out ec.csr -subj "/CN=fixture ec gateway" 2>/dev/null
openssl x509 -req -in ec.csr -CA ca.crt -CAkey ca.key -set_serial 3 -days 36500 -out ec.crt 2>/dev/null
openssl ec -in ec.key -out ec-sec1.key 2>/dev/null
rm -f leaf.csr ec.csr ec.key ca.key

#!/usr/bin/env bash
# gen.sh regenerates the encrypted PKCS#8 fixtures of pbes2_test.go with
# OpenSSL 3 (an implementation independent of ours). Test key only.
# Passphrase of every encrypted file: test-pass.
set -euo pipefail
cd "$(dirname "$0")"
pass=pass:test-pass
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem
enc() { openssl pkcs8 -topk8 -in key.pem -passout $pass -iter 2048 "${@:2}" -out "$1"; }
enc aes128-sha1.pem -v2 aes-128-cbc -v2prf hmacWithSHA1
enc aes192-sha512.pem -v2 aes-192-cbc -v2prf hmacWithSHA512
enc aes256-sha256.pem -v2 aes-256-cbc -v2prf hmacWithSHA256
enc aes256-sha384.pem -v2 aes-256-cbc -v2prf hmacWithSHA384
enc des3-sha256.pem -v2 des3
# PBES1 (pbeWithSHAAnd3-KeyTripleDES-CBC), which DecryptPKCS8 refuses.
enc pbes1.pem -v1 PBE-SHA1-3DES

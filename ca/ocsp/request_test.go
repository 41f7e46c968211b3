package ocsp

import (
	"bytes"
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"

	xocsp "golang.org/x/crypto/ocsp"
)

// TestParseRequestInterop parses requests made by x/crypto/ocsp, which
// is what Go clients send.
func TestParseRequestInterop(t *testing.T) {
	main, _ := cas(t)
	leaf := main.leaf(t, big.NewInt(0x1234))
	leaf.RawIssuer = main.cert.RawSubject
	hashes, err := computeIssuerHashes(main.cert)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		hash crypto.Hash
		want hashAlg
	}{
		{"ok/sha1", crypto.SHA1, hashSHA1},
		{"ok/sha256", crypto.SHA256, hashSHA256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := xocsp.CreateRequest(leaf, main.cert, &xocsp.RequestOptions{Hash: tt.hash})
			if err != nil {
				t.Fatal(err)
			}
			r, err := parseRequest(der)
			if err != nil {
				t.Fatalf("parseRequest: %v", err)
			}
			if r.hash != tt.want || r.serial.Cmp(leaf.SerialNumber) != 0 || r.nonce != nil ||
				!bytes.Equal(r.issuerNameHash, hashes[tt.want].name) || !bytes.Equal(r.issuerKeyHash, hashes[tt.want].key) {
				t.Errorf("parsed %+v, want hash %d, serial %x, issuer hashes %x", r, tt.want, leaf.SerialNumber, hashes[tt.want])
			}
		})
	}
}

func TestParseRequest(t *testing.T) {
	main, _ := cas(t)
	serial := big.NewInt(42)
	ext := func(id asn1.ObjectIdentifier, critical bool, v []byte) pkix.Extension {
		return pkix.Extension{Id: id, Critical: critical, Value: v}
	}
	unknownOID := asn1.ObjectIdentifier{1, 2, 3, 4}
	good := reqSpec{issuer: main.cert, serial: serial}.build(t)
	// AlgorithmIdentifier { sha1, NULL }
	sha1AlgID := []byte{0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00}
	tests := []struct {
		name      string
		der       []byte
		wantErr   error // errUndecodable or errMalformed; nil for ok
		wantMsg   string
		wantNonce []byte
		berFalse  bool // rewrite the unknown extension's OID to carry critical FALSE
	}{
		{name: "ok/plain", der: good},
		{name: "ok/nonce of 1 octet", der: reqSpec{issuer: main.cert, serial: serial, nonce: octets(t, 1)}.build(t), wantNonce: octets(t, 1)},
		{name: "ok/nonce of 128 octets", der: reqSpec{issuer: main.cert, serial: serial, nonce: octets(t, 128)}.build(t), wantNonce: octets(t, 128)},
		{name: "ok/raw nonce", der: reqSpec{issuer: main.cert, serial: serial, nonce: []byte{1, 2, 3, 4, 5, 6, 7, 8}}.build(t), wantNonce: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{name: "ok/non-critical unknown extensions ignored", der: reqSpec{issuer: main.cert, serial: serial, mutate: func(r *ocspRequest) {
			r.TBSRequest.RequestExtensions = []pkix.Extension{ext(unknownOID, false, []byte{5, 0})}
			r.TBSRequest.RequestList[0].SingleRequestExtensions = []pkix.Extension{ext(unknownOID, false, []byte{5, 0})}
		}}.build(t)},
		{name: "ok/hashAlgorithm without parameters", der: replace(t, good, sha1AlgID, append([]byte{0x30, 0x07}, sha1AlgID[2:9]...))},
		{name: "ok/explicit critical FALSE accepted", der: reqSpec{issuer: main.cert, serial: serial, nonce: octets(t, 4), mutate: func(r *ocspRequest) {
			r.TBSRequest.RequestExtensions = append(r.TBSRequest.RequestExtensions, ext(unknownOID, false, []byte{5, 0}))
		}}.build(t), wantNonce: octets(t, 4), berFalse: true},
		{name: "ok/requestorName and signature ignored", der: reqSpec{issuer: main.cert, serial: serial, mutate: func(r *ocspRequest) {
			r.TBSRequest.RequestorName = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true,
				Bytes: []byte{0x82, 0x03, 'a', '.', 'b'}} // dNSName
			r.OptionalSignature = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: []byte{0x30, 0x00}}
		}}.build(t)},

		{name: "fail/empty", der: nil, wantErr: errUndecodable, wantMsg: "ocsp: undecodable request: not a DER SEQUENCE"},
		{name: "fail/garbage", der: []byte("GET / HTTP/1.1"), wantErr: errUndecodable, wantMsg: "ocsp: undecodable request: not a DER SEQUENCE"},
		{name: "fail/truncated", der: good[:len(good)-3], wantErr: errUndecodable, wantMsg: "ocsp: undecodable request: not a DER SEQUENCE"},
		{name: "fail/BER indefinite length", der: []byte{0x30, 0x80, 0x00, 0x00}, wantErr: errUndecodable, wantMsg: "ocsp: undecodable request: not a DER SEQUENCE"},
		{name: "fail/junk after tbsRequest", der: wrapSeq(t, good, []byte{0x05, 0x00}), wantErr: errUndecodable, wantMsg: "ocsp: undecodable request: OCSPRequest"},
		{name: "fail/serial not minimally encoded", der: replace(t, good, []byte{0x02, 0x01, 0x2a}, []byte{0x02, 0x02, 0x00, 0x2a}),
			wantErr: errUndecodable, wantMsg: "ocsp: undecodable request: serialNumber"},
		{name: "fail/hashAlgorithm parameters not NULL", der: replace(t, good, sha1AlgID, append(sha1AlgID[:9:9], 0x04, 0x00)),
			wantErr: errUndecodable, wantMsg: "ocsp: undecodable request: hashAlgorithm parameters"},
		{name: "fail/trailing data", der: append(append([]byte{}, good...), 0), wantErr: errUndecodable, wantMsg: "ocsp: undecodable request: 1 bytes after the request"},
		{name: "fail/version 2", der: reqSpec{issuer: main.cert, serial: serial, mutate: func(r *ocspRequest) { r.TBSRequest.Version = 1 }}.build(t),
			wantErr: errMalformed, wantMsg: "ocsp: malformed request: version 1 (only v1 exists)"},
		{name: "fail/no singleRequest", der: reqSpec{issuer: main.cert, serial: serial, mutate: func(r *ocspRequest) { r.TBSRequest.RequestList = nil }}.build(t),
			wantErr: errMalformed, wantMsg: "ocsp: malformed request: no singleRequest"},
		{name: "fail/no singleRequest after requestorName", der: reqSpec{issuer: main.cert, serial: serial, mutate: func(r *ocspRequest) {
			r.TBSRequest.RequestList = nil
			r.TBSRequest.RequestorName = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: []byte{0x82, 0x01, 'a'}}
		}}.build(t), wantErr: errMalformed, wantMsg: "ocsp: malformed request: no singleRequest"},
		{name: "fail/two singleRequests", der: reqSpec{issuer: main.cert, serial: serial, singles: 2}.build(t),
			wantErr: errMalformed, wantMsg: "ocsp: malformed request: 2 singleRequests, at most 1 answered (RFC 5019 §2.1.1)"},
		{name: "fail/sha384 CertID", der: reqSpec{issuer: main.cert, serial: serial, hash: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}}.build(t),
			wantErr: errMalformed, wantMsg: "ocsp: malformed request: CertID hash algorithm 2.16.840.1.101.3.4.2.2 not supported (SHA-1, SHA-256)"},
		{name: "fail/md5 CertID", der: reqSpec{issuer: main.cert, serial: serial, hash: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}}.build(t),
			wantErr: errMalformed, wantMsg: "ocsp: malformed request: CertID hash algorithm 1.2.840.113549.2.5 not supported (SHA-1, SHA-256)"},
		{name: "fail/sha1 OID with sha256-sized hashes", der: reqSpec{issuer: main.cert, serial: serial, hash: oidSHA256, mutate: func(r *ocspRequest) {
			r.TBSRequest.RequestList[0].ReqCert.HashAlgorithm.Algorithm = oidSHA1
		}}.build(t), wantErr: errMalformed, wantMsg: "ocsp: malformed request: CertID hashes of 32 and 32 octets, want 20"},
		{name: "fail/critical unknown request extension", der: reqSpec{issuer: main.cert, serial: serial, mutate: func(r *ocspRequest) {
			r.TBSRequest.RequestExtensions = []pkix.Extension{ext(unknownOID, true, []byte{5, 0})}
		}}.build(t), wantErr: errMalformed, wantMsg: "ocsp: malformed request: critical request extension 1.2.3.4 not understood"},
		{name: "fail/critical unknown singleRequest extension", der: reqSpec{issuer: main.cert, serial: serial, mutate: func(r *ocspRequest) {
			r.TBSRequest.RequestList[0].SingleRequestExtensions = []pkix.Extension{ext(unknownOID, true, []byte{5, 0})}
		}}.build(t), wantErr: errMalformed, wantMsg: "ocsp: malformed request: critical singleRequest extension 1.2.3.4 not understood"},
		{name: "fail/empty nonce", der: reqSpec{issuer: main.cert, serial: serial, nonce: octets(t, 0)}.build(t),
			wantErr: errMalformed, wantMsg: "ocsp: malformed request: nonce of 0 octets (RFC 9654: 1 to 128)"},
		{name: "fail/nonce of 129 octets", der: reqSpec{issuer: main.cert, serial: serial, nonce: octets(t, 129)}.build(t),
			wantErr: errMalformed, wantMsg: "ocsp: malformed request: nonce of 129 octets (RFC 9654: 1 to 128)"},
		{name: "fail/two nonces", der: reqSpec{issuer: main.cert, serial: serial, nonce: octets(t, 8), mutate: func(r *ocspRequest) {
			r.TBSRequest.RequestExtensions = append(r.TBSRequest.RequestExtensions, r.TBSRequest.RequestExtensions[0])
		}}.build(t), wantErr: errMalformed, wantMsg: "ocsp: malformed request: two nonces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.berFalse {
				// 06 03 2a 03 04 (1.2.3.4) then 04 02 05 00: insert 01 01 00.
				tt.der = replace(t, tt.der, []byte{0x30, 0x09, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x04, 0x02, 0x05, 0x00},
					[]byte{0x30, 0x0c, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x01, 0x01, 0x00, 0x04, 0x02, 0x05, 0x00})
			}
			r, err := parseRequest(tt.der)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("parseRequest: %v", err)
				}
				if r.serial.Cmp(serial) != 0 || r.hash != hashSHA1 {
					t.Errorf("parsed serial %v hash %d", r.serial, r.hash)
				}
				if !bytes.Equal(r.nonce, tt.wantNonce) || (r.nonce == nil) != (tt.wantNonce == nil) {
					t.Errorf("nonce = %x, want %x", r.nonce, tt.wantNonce)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || err.Error() != tt.wantMsg {
				t.Fatalf("parseRequest error = %v, want %q (wrapping %v)", err, tt.wantMsg, tt.wantErr)
			}
		})
	}
}

// replace swaps the one occurrence of old in der for new and fixes the
// lengths of the SEQUENCEs around it, which are all short-form here.
func replace(t *testing.T, der, old, new []byte) []byte {
	t.Helper()
	i := bytes.Index(der, old)
	if i < 0 || bytes.Contains(der[i+1:], old) {
		t.Fatalf("%x occurs %d times in the request", old, bytes.Count(der, old))
	}
	out := append(append(append([]byte{}, der[:i]...), new...), der[i+len(old):]...)
	return refit(t, out, i, len(new)-len(old))
}

// refit adjusts the lengths of every constructed element that encloses
// offset by delta; parsing from the start finds them.
func refit(t *testing.T, der []byte, offset, delta int) []byte {
	t.Helper()
	var walk func(start, end int)
	walk = func(start, end int) {
		for p := start; p < end; {
			tag, l := der[p], int(der[p+1])
			if l >= 0x80 {
				t.Fatalf("long-form length at %d", p)
			}
			body, next := p+2, p+2+l
			if tag&0x20 != 0 && body <= offset && offset < next-min(delta, 0) {
				der[p+1] = byte(l + delta)
				walk(body, next+delta)
				return
			}
			p = next
		}
	}
	walk(0, len(der))
	return der
}

// wrapSeq returns SEQUENCE { the contents of the request's outer
// SEQUENCE, extra }.
func wrapSeq(t *testing.T, der, extra []byte) []byte {
	t.Helper()
	if der[1] >= 0x80 {
		t.Fatal("long-form length")
	}
	inner := append(append([]byte{}, der[2:]...), extra...)
	return append([]byte{0x30, byte(len(inner))}, inner...)
}

package ocsp

import (
	"bytes"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

// FuzzOCSPRequest feeds arbitrary bytes through the whole request path,
// POST and GET: nothing may panic, and every answer must be an OCSP
// response a client can parse, signed or not.
func FuzzOCSPRequest(f *testing.F) {
	main, _ := cas(f)
	e := newEnv(f, modeDelegated)
	good := e.addCert(store.StatusValid)
	revoked := e.addCert(store.StatusRevoked)
	for _, spec := range []reqSpec{
		{issuer: main.cert, serial: good},
		{issuer: main.cert, serial: revoked, hash: oidSHA256},
		{issuer: main.cert, serial: good, nonce: octets(f, 16)},
		{issuer: main.cert, serial: big.NewInt(3), singles: 2},
	} {
		f.Add(spec.build(f))
	}
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x80})
	f.Fuzz(func(t *testing.T, der []byte) {
		_, _ = parseRequest(der)
		for _, req := range []*http.Request{
			postReq(der),
			httptest.NewRequest(http.MethodGet, "/ocsp/"+url.PathEscape(base64.StdEncoding.EncodeToString(der)), nil),
		} {
			w := httptest.NewRecorder()
			e.r.ServeHTTP(w, req)
			switch w.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong:
			default:
				t.Fatalf("%s: HTTP %d", req.Method, w.Code)
			}
			body := w.Body.Bytes()
			if _, err := xocsp.ParseResponse(body, main.cert); err != nil {
				if _, isStatus := err.(xocsp.ResponseError); !isStatus {
					t.Fatalf("%s: answer %x is no OCSP response: %v", req.Method, body, err)
				}
				if w.Code == http.StatusOK && !bytes.Equal(body, xocsp.MalformedRequestErrorResponse) && !bytes.Equal(body, xocsp.UnauthorizedErrorResponse) {
					t.Fatalf("%s: HTTP 200 with error %x", req.Method, body)
				}
			}
		}
	})
}

package ocsp

import (
	"context"
	"math/big"
	"net/http"
	"sync"
	"testing"

	"github.com/certgate/certgate/store"
	xocsp "golang.org/x/crypto/ocsp"
)

// TestConcurrent mixes hits, misses, nonces, revocations and refresher
// passes (run it with -race). Whatever the interleaving, once a
// revocation and its Invalidate are done, every answer says revoked.
func TestConcurrent(t *testing.T) {
	e := newEnv(t, modeDelegated)
	const n = 16
	serials := make([]*big.Int, n)
	for i := range serials {
		serials[i] = e.addCert(store.StatusValid)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				spec := reqSpec{issuer: e.ca.cert, serial: serials[(w+i)%n]}
				switch i % 5 {
				case 1:
					spec.hash = oidSHA256
				case 2:
					spec.nonce = octets(t, 8)
				}
				req := postReq(spec.build(t))
				if i%2 == 0 {
					req = getReq(spec.build(t))
				}
				if w := e.do(req); w.Code != http.StatusOK {
					t.Errorf("HTTP %d", w.Code)
				}
			}
		})
	}
	wg.Go(func() {
		for i := 0; i < n; i += 2 {
			if err := e.certs.Revoke(serials[i], xocsp.KeyCompromise, t0); err != nil {
				t.Error(err)
			}
			if err := e.r.Invalidate(ctx, "corp", serials[i]); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Go(func() {
		for range 5 {
			if err := e.r.Refresh(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	for i, s := range serials {
		want := xocsp.Good
		if i%2 == 0 {
			want = xocsp.Revoked
		}
		for _, h := range []reqSpec{{}, {hash: oidSHA256}} {
			h.issuer, h.serial = e.ca.cert, s
			if p := e.ask(t, s, h); p.Status != want {
				t.Errorf("serial %d (%v): status %d, want %d", i, h.hash, p.Status, want)
			}
		}
	}
}

package enroll_test

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/certgate/certgate/ca/escrow"
	"github.com/certgate/certgate/enroll"
	"github.com/certgate/certgate/store"
)

// uniqueService has "device" with UniqueSubject, escrowing into sealer.
func uniqueService(t *testing.T, e *env, sealer enroll.Sealer) *enroll.Service {
	t.Helper()
	return e.service(t, func(o *enroll.Options) {
		o.Profiles["device"].UniqueSubject = true
		o.Profiles["device"].Escrow = sealer
	})
}

func TestUniqueSubject(t *testing.T) {
	e := newEnv(t, testCA)
	s := uniqueService(t, e, nil)
	ctx := context.Background()
	first, err := s.Enroll(ctx, request(newCSR(t, ecKey, "unique-1"), secret1))
	if err != nil {
		t.Fatalf("first enrollment: %v", err)
	}

	t.Run("fail/same subject while valid", func(t *testing.T) {
		_, err := s.Enroll(ctx, request(newCSR(t, ecKey, "unique-1"), secret1))
		f := enroll.AsFailure(err)
		if err == nil || f.Reason != enroll.BadRequest || !bytes.Contains([]byte(f.Detail), []byte(first.Record.SerialHex)) {
			t.Fatalf("err = %v, want badRequest naming serial %s", err, first.Record.SerialHex)
		}
	})
	t.Run("ok/other subject", func(t *testing.T) {
		if _, err := s.Enroll(ctx, request(newCSR(t, ecKey, "unique-2"), secret1)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ok/common name differing in case is another subject", func(t *testing.T) {
		if _, err := s.Enroll(ctx, request(newCSR(t, ecKey, "UNIQUE-1"), secret1)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("fail/same subject without a common name", func(t *testing.T) {
		// Found by the subject search, as no common name indexes it.
		s := e.service(t, func(o *enroll.Options) {
			o.Profiles["device"].UniqueSubject = true
			policy := *o.Profiles["device"].Policy
			policy.RequireCN = false
			o.Profiles["device"].Policy = &policy
		})
		noCN, err := s.Enroll(ctx, request(newCSR(t, ecKey, ""), secret1))
		if err != nil {
			t.Fatalf("first enrollment without a common name: %v", err)
		}
		_, err = s.Enroll(ctx, request(newCSR(t, ecKey, ""), secret1))
		f := enroll.AsFailure(err)
		if err == nil || f.Reason != enroll.BadRequest || !bytes.Contains([]byte(f.Detail), []byte(noCN.Record.SerialHex)) {
			t.Fatalf("err = %v, want badRequest naming serial %s", err, noCN.Record.SerialHex)
		}
	})
	t.Run("ok/renewal of the same subject", func(t *testing.T) {
		r := request(newCSR(t, ecKey, "unique-1"), "")
		r.RenewalOf = first.Cert
		if _, err := s.Enroll(ctx, r); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ok/same subject after revocation", func(t *testing.T) {
		if _, err := e.store.Revoke(ctx, first.Cert.SerialNumber, store.ReasonSuperseded, first.Record.CreatedAt); err != nil {
			t.Fatal(err)
		}
		// The renewal above is also valid with that subject: revoke every one.
		recs, _ := e.store.Search(ctx, store.Query{Status: store.StatusValid, Subject: "unique-1", Limit: -1})
		for _, r := range recs {
			if _, err := e.store.Revoke(ctx, r.Serial, store.ReasonSuperseded, r.CreatedAt); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Enroll(ctx, request(newCSR(t, ecKey, "unique-1"), secret1)); err != nil {
			t.Fatal(err)
		}
	})
}

// Twenty concurrent first enrollments of one subject: exactly one wins.
func TestUniqueSubjectRace(t *testing.T) {
	e := newEnv(t, testCA)
	s := uniqueService(t, e, nil)
	csr := newCSR(t, ecKey, "raced")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, dup := 0, 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Enroll(context.Background(), request(csr, secret1))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case enroll.AsFailure(err).Reason == enroll.BadRequest:
				dup++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || dup != 19 || e.count(t, store.StatusValid) != 1 {
		t.Fatalf("%d issued, %d refused, %d valid records; want 1, 19, 1", ok, dup, e.count(t, store.StatusValid))
	}
}

func TestEscrow(t *testing.T) {
	e := newEnv(t, testCA)
	sealer, err := escrow.LoadOrCreate(filepath.Join(t.TempDir(), "escrow.key"))
	if err != nil {
		t.Fatal(err)
	}
	s := uniqueService(t, e, sealer)
	generated := []byte("pkcs8 of the generated key")
	r := request(newCSR(t, ecKey, "escrowed"), secret1)
	r.GeneratedKey = generated
	res, err := s.Enroll(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.store.Cert(context.Background(), res.Cert.SerialNumber)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.EscrowedKey) == 0 || bytes.Contains(rec.EscrowedKey, generated) {
		t.Fatalf("stored escrow blob %q: want sealed, non-empty", rec.EscrowedKey)
	}
	got, err := sealer.Open(rec.SerialHex, rec.EscrowedKey)
	if err != nil || !bytes.Equal(got, generated) {
		t.Fatalf("recovered %q, %v", got, err)
	}

	t.Run("ok/no escrow without a generated key", func(t *testing.T) {
		res, err := s.Enroll(context.Background(), request(newCSR(t, ecKey, "client-keyed"), secret1))
		if err != nil {
			t.Fatal(err)
		}
		if rec, _ := e.store.Cert(context.Background(), res.Cert.SerialNumber); len(rec.EscrowedKey) != 0 {
			t.Fatal("a client-generated key's record has an escrow blob")
		}
	})
	t.Run("fail/escrow with duplicates allowed", func(t *testing.T) {
		_, err := enroll.NewService(enroll.Options{Store: e.store, Profiles: map[string]*enroll.Profile{
			"x": {Policy: e.policy(t, "x"), Issuer: e.ca, Validator: e.profiles(t)["device"].Validator, Escrow: sealer},
		}})
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte("duplicate subjects")) {
			t.Fatalf("NewService = %v, want a refusal naming duplicate subjects", err)
		}
	})
}

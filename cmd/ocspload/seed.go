package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	xocsp "golang.org/x/crypto/ocsp"

	"github.com/certgate/certgate/ca"
	"github.com/certgate/certgate/ca/local"
	"github.com/certgate/certgate/store"
	"github.com/certgate/certgate/store/bolt"
)

// seedOptions are seed's parsed flags.
type seedOptions struct {
	dataDir           string
	out               string
	caName            string
	n                 int
	workers           int
	sample            int
	validity          time.Duration
	responderValidity time.Duration
}

func parseSeedOptions(args []string, stderr io.Writer) (*seedOptions, error) {
	fs := flag.NewFlagSet("ocspload seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &seedOptions{}
	fs.StringVar(&o.dataDir, "data-dir", "", "certgate data directory holding ca/ (certgate must not be running) (required)")
	fs.StringVar(&o.out, "out", "", "directory for the files other responders and `ocspload run` use (required)")
	fs.StringVar(&o.caName, "ca-name", "certgate", "the CA's name as certgate's config has it (ca.name); records carry it")
	fs.IntVar(&o.n, "n", 100000, "certificates to issue and record")
	fs.IntVar(&o.workers, "c", 64, "concurrent issuers; many let bbolt's group commit share fsyncs")
	fs.IntVar(&o.sample, "sample", 1000, "serials written to sample.txt for the load runs")
	fs.DurationVar(&o.validity, "validity", 24*time.Hour, "nextUpdate - thisUpdate of the pre-signed responses for cfssl (certgate's default)")
	fs.DurationVar(&o.responderValidity, "responder-validity", 168*time.Hour, "life of the delegated responder certificate (certgate's default)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("ocspload seed: unexpected argument %q", fs.Arg(0))
	case o.dataDir == "" || o.out == "":
		return nil, errors.New("ocspload seed: -data-dir and -out are required")
	case o.n < 1 || o.n > 10_000_000:
		return nil, errors.New("ocspload seed: -n must be between 1 and 10000000")
	case o.workers < 1 || o.workers > 1024:
		return nil, errors.New("ocspload seed: -c must be between 1 and 1024")
	case o.sample < 1:
		return nil, errors.New("ocspload seed: -sample must be at least 1")
	case o.validity <= 0 || o.responderValidity < 2*o.validity:
		return nil, errors.New("ocspload seed: -validity must be positive and -responder-validity at least twice it")
	}
	return o, nil
}

// seeder issues and records certificates the way enrollment does (serial
// reserved before signing, certificate recorded after), minus the
// protocol, and pre-signs a response for each.
type seeder struct {
	ca        *local.CA
	st        store.Store
	profile   *ca.Profile
	subject   *ecdsa.PrivateKey // shared by every certificate: only serials matter here
	responder *x509.Certificate
	respKey   crypto.Signer
	validity  time.Duration
}

// seeded is what the peer files need of one certificate.
type seeded struct {
	serial   *big.Int
	notAfter time.Time
	cn       string
	ocsp     []byte
}

// maxSerialTries bounds retries on a serial collision, which with
// certgate's 128-bit random serials means something else is wrong.
const maxSerialTries = 3

// one issues certificate number i.
func (s *seeder) one(ctx context.Context, i int) (*seeded, error) {
	cn := fmt.Sprintf("ocspload-%07d", i)
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, s.subject)
	if err != nil {
		return nil, fmt.Errorf("ocspload: seed %s: CSR: %w", cn, err)
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, fmt.Errorf("ocspload: seed %s: CSR: %w", cn, err)
	}
	var draft *ca.Draft
	var rec *store.CertRecord
	for try := 1; ; try++ {
		if draft, err = s.ca.Prepare(ctx, csr, s.profile); err != nil {
			return nil, fmt.Errorf("ocspload: seed %s: %w", cn, err)
		}
		rec = &store.CertRecord{
			Serial: draft.Serial, Issuer: s.ca.Name(),
			Subject: draft.Template.Subject.String(), CommonName: cn,
			NotBefore: draft.Template.NotBefore, NotAfter: draft.Template.NotAfter,
			Profile: s.profile.Name, Protocol: "seed", Status: store.StatusReserved,
		}
		err = s.st.Reserve(ctx, rec)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || try == maxSerialTries {
			return nil, fmt.Errorf("ocspload: seed %s: %w", cn, err)
		}
	}
	cert, err := s.ca.Sign(ctx, draft)
	if err != nil {
		return nil, fmt.Errorf("ocspload: seed %s: %w", cn, err)
	}
	rec.DER, rec.Status = cert.Raw, store.StatusValid
	rec.NotBefore, rec.NotAfter = cert.NotBefore, cert.NotAfter
	if err := s.st.Issue(ctx, rec); err != nil {
		return nil, fmt.Errorf("ocspload: seed %s: %w", cn, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	resp, err := xocsp.CreateResponse(s.ca.Certificate(), s.responder, xocsp.Response{
		Status: xocsp.Good, SerialNumber: cert.SerialNumber,
		ThisUpdate: now, NextUpdate: now.Add(s.validity),
		Certificate: s.responder, // embedded, as certgate's delegated responses carry it
	}, s.respKey)
	if err != nil {
		return nil, fmt.Errorf("ocspload: seed %s: OCSP response: %w", cn, err)
	}
	return &seeded{serial: cert.SerialNumber, notAfter: cert.NotAfter, cn: cn, ocsp: resp}, nil
}

func runSeedCmd(args []string, stdout, stderr io.Writer) error {
	o, err := parseSeedOptions(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	s, closeStore, err := newSeeder(o)
	if err != nil {
		return err
	}
	defer closeStore()
	pf, err := createPeerFiles(o.out, s.ca.Certificate(), s.responder, s.respKey)
	if err != nil {
		return err
	}
	serials, err := s.issueAll(ctx, o.n, o.workers, pf, stderr)
	if cerr := pf.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := writeSample(filepath.Join(o.out, sampleFile), sampleSerials(serials, o.sample, 1)); err != nil {
		return err
	}
	if err := closeStore(); err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Fprintf(stdout, "seeded %d certificates of CA %q into %s in %.1fs (%.0f/s); peer files in %s\n",
		len(serials), s.ca.Name(), o.dataDir, d.Seconds(), float64(len(serials))/d.Seconds(), o.out)
	return nil
}

// newSeeder loads the CA and opens the store; the returned close may be
// called more than once.
func newSeeder(o *seedOptions) (*seeder, func() error, error) {
	c, err := local.Load(filepath.Join(o.dataDir, "ca"), local.Options{Name: o.caName})
	if err != nil {
		return nil, nil, err
	}
	p, err := ca.ProfileConfig{Name: "default"}.Build()
	if err != nil {
		return nil, nil, err
	}
	subject, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("ocspload: seed: subject key: %w", err)
	}
	// RSA-2048, as certgate's default delegated responder (ocsp.signer
	// "delegated"), so every responder compared signs with the same kind
	// of key and sends responses of the same shape.
	respKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("ocspload: seed: responder key: %w", err)
	}
	responder, err := c.IssueOCSPResponder(respKey, o.responderValidity)
	if err != nil {
		return nil, nil, err
	}
	st, err := bolt.Open(filepath.Join(o.dataDir, "certgate.db"), bolt.Options{})
	if err != nil {
		return nil, nil, err
	}
	var once sync.Once
	var closeErr error
	closeStore := func() error {
		once.Do(func() { closeErr = st.Close() })
		return closeErr
	}
	return &seeder{ca: c, st: st, profile: p, subject: subject, responder: responder, respKey: respKey, validity: o.validity}, closeStore, nil
}

// progressEvery is how often issueAll reports on stderr.
const progressEvery = 10000

// issueAll issues n certificates from workers goroutines and hands each
// to pf from a single goroutine. It stops at the first error.
func (s *seeder) issueAll(ctx context.Context, n, workers int, pf *peerFiles, stderr io.Writer) ([]*big.Int, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make(chan *seeded, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				r, err := s.one(ctx, i)
				if err != nil {
					cancel(err)
					return
				}
				out <- r
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	serials := make([]*big.Int, 0, n)
	var werr error
	start := time.Now()
	for r := range out {
		if werr != nil {
			continue // drain so the workers can finish
		}
		if werr = pf.add(r); werr != nil {
			cancel(werr)
			continue
		}
		serials = append(serials, r.serial)
		if len(serials)%progressEvery == 0 {
			fmt.Fprintf(stderr, "ocspload seed: %d/%d (%.0f/s)\n", len(serials), n, float64(len(serials))/time.Since(start).Seconds())
		}
	}
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return serials, nil
}

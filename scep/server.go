package scep

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	smallscep "github.com/smallstep/scep"

	"github.com/certgate/certgate/enroll"
)

// Enroller is the enrollment service as SCEP uses it.
type Enroller interface {
	Enroll(ctx context.Context, r *enroll.Request) (*enroll.Result, error)
	HasProfile(name string) bool
}

// Options configures a Server.
type Options struct {
	// Enroller decides enrollments. Required.
	Enroller Enroller
	// RACert and RAKey sign CertReps and decrypt requests; clients encrypt
	// to RACert, so its key must be RSA. Required.
	RACert *x509.Certificate
	RAKey  crypto.Signer
	// CACerts is what GetCACert serves: RACert first, then its issuers.
	// Empty means RACert alone.
	CACerts []*x509.Certificate
	// DefaultProfile serves /scep and the NDES path. Required.
	DefaultProfile string
	// MaxBodyBytes caps a PKIOperation body (and a GET message). Zero means
	// 256 KiB.
	MaxBodyBytes int64
	// Registerer receives the SCEP message metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// DefaultMaxBodyBytes is the PKIOperation size cap when none is configured.
// A PKCSReq with an RSA-4096 key and a long chain is under 16 KiB.
const DefaultMaxBodyBytes = 256 << 10

// Server answers SCEP operations. Its methods hold the protocol logic and
// are usable without HTTP; Handler adapts it to net/http.
type Server struct {
	enroller       Enroller
	raCert         *x509.Certificate
	raKey          crypto.Signer
	raDecrypter    crypto.Decrypter
	caCerts        []*x509.Certificate
	defaultProfile string
	maxBody        int64
	rejected       *prometheus.CounterVec
}

// New checks opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Enroller == nil || opts.RACert == nil || opts.RAKey == nil || opts.DefaultProfile == "" {
		return nil, errors.New("scep: enroller, RA certificate, RA key and default profile are required")
	}
	dec, ok := opts.RAKey.(crypto.Decrypter)
	if _, isRSA := opts.RAKey.Public().(*rsa.PublicKey); !ok || !isRSA {
		return nil, errors.New("scep: the RA key must be RSA: clients encrypt to it")
	}
	caCerts := opts.CACerts
	if len(caCerts) == 0 {
		caCerts = []*x509.Certificate{opts.RACert}
	}
	maxBody := opts.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	s := &Server{
		enroller: opts.Enroller, raCert: opts.RACert, raKey: opts.RAKey, raDecrypter: dec,
		caCerts: caCerts, defaultProfile: opts.DefaultProfile, maxBody: maxBody,
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_scep_failures_total",
			Help: "SCEP PKIOperations answered with CertRep FAILURE, by failInfo, including those refused before enrollment (signature, cipher).",
		}, []string{"fail_info"}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(s.rejected)
	}
	return s, nil
}

// capabilities is the GetCACaps answer (RFC 8894 §3.5.2). It lists only
// what certgate does; DES3 and SHA-1 are accepted but not advertised, so
// clients that read the list choose AES and SHA-256.
var capabilities = strings.Join([]string{
	"POSTPKIOperation", "SHA-256", "SHA-512", "AES", "SCEPStandard", "Renewal",
}, "\n") + "\n"

// Capabilities returns the GetCACaps body.
func (s *Server) Capabilities() string { return capabilities }

// CACert returns the GetCACert body and content type (RFC 8894 §4.2.1): the
// bare DER certificate when there is one, or a degenerate certs-only PKCS#7
// of the RA/CA certificate followed by its chain.
func (s *Server) CACert() ([]byte, string, error) {
	if len(s.caCerts) == 1 {
		return s.caCerts[0].Raw, "application/x-x509-ca-cert", nil
	}
	deg, err := smallscep.DegenerateCertificates(s.caCerts)
	if err != nil {
		return nil, "", err
	}
	return deg, "application/x-x509-ca-ra-cert", nil
}

// HasProfile reports whether the profile exists.
func (s *Server) HasProfile(name string) bool { return s.enroller.HasProfile(name) }

// PKIOperation answers one pkiMessage for profile. It returns a CertRep,
// or a *decodeError when der is not a SCEP message at all.
func (s *Server) PKIOperation(ctx context.Context, der []byte, profile, remoteAddr string) ([]byte, error) {
	m, err := parseMessage(der)
	if err != nil {
		return nil, err
	}
	log := zerolog.Ctx(ctx).With().Str("transaction_id", string(m.transactionID)).
		Str("message_type", messageTypeName(m.messageType)).Logger()
	r := s.handle(log.WithContext(ctx), m, profile, remoteAddr)
	if r.status == smallscep.FAILURE {
		s.rejected.WithLabelValues(failInfoName(r.failInfo)).Inc()
	}
	return certRep(m, s.raCert, s.raKey, r)
}

func (s *Server) handle(ctx context.Context, m *message, profile, remoteAddr string) reply {
	log := zerolog.Ctx(ctx)
	switch m.messageType {
	case smallscep.PKCSReq, smallscep.RenewalReq, smallscep.UpdateReq, smallscep.CertPoll:
	default:
		// GetCert and GetCRL look up certificates and CRLs by issuer and
		// serial, which clients fetch over HTTP (/crl, /ca) instead;
		// anything else is not a request.
		log.Warn().Msg("scep: unsupported message type")
		return failure(smallscep.BadRequest)
	}
	if err := m.verify(); err != nil {
		f := enroll.AsFailure(err)
		log.Warn().Err(err).Msg("scep: message rejected")
		return failure(failInfo(f.Reason))
	}
	if !m.canReceive() {
		log.Warn().Msg("scep: signer key is not RSA, cannot encrypt the reply")
		return failure(smallscep.BadAlg)
	}
	req, cipher, err := s.enrollRequest(ctx, m, profile, remoteAddr)
	if err != nil {
		log.Warn().Err(err).Msg("scep: message rejected")
		return failure(failInfo(enroll.AsFailure(err).Reason))
	}
	res, err := s.enroller.Enroll(ctx, req)
	if err != nil {
		f := enroll.AsFailure(err)
		if f.Reason == enroll.Pending {
			return reply{status: smallscep.PENDING}
		}
		return failure(failInfo(f.Reason))
	}
	return reply{status: smallscep.SUCCESS, cert: res.Cert, cipher: replyCipher(cipher)}
}

// enrollRequest decrypts m and turns it into an enrollment request: a CSR
// for PKCSReq and renewals, a poll by transaction ID for CertPoll
// (GetCertInitial, whose IssuerAndSubject we need not read: the
// transaction ID finds the held request, and the signer must hold its key).
func (s *Server) enrollRequest(ctx context.Context, m *message, profile, remoteAddr string) (*enroll.Request, cipherAlg, error) {
	req := &enroll.Request{
		Protocol:      "scep",
		Profile:       profile,
		TransactionID: string(m.transactionID),
		RemoteAddr:    remoteAddr,
	}
	if m.messageType == smallscep.CertPoll {
		_, cipher, err := m.open(s.raCert, s.raDecrypter)
		if err != nil {
			return nil, cipherAlg{}, err
		}
		req.Poll, req.PollKey = true, m.signer.PublicKey
		return req, cipher, nil
	}
	cr, err := m.decrypt(s.raCert, s.raDecrypter)
	if err != nil {
		return nil, cipherAlg{}, err
	}
	if cr.cipher.name == cipherDES.name {
		zerolog.Ctx(ctx).Warn().Msg("scep: request encrypted with single DES; answering with DES-EDE3")
	}
	req.CSR, req.RawCSR, req.Challenge = cr.csr, cr.raw, cr.challenge
	if m.messageType != smallscep.PKCSReq {
		req.RenewalOf = m.signer
	}
	return req, cr.cipher, nil
}

func failure(fi smallscep.FailInfo) reply {
	return reply{status: smallscep.FAILURE, failInfo: fi}
}

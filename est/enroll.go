package est

import (
	"context"
	"crypto/x509"
	"net/http"

	"github.com/certgate/certgate/enroll"
)

// SimpleEnroll answers /simpleenroll (RFC 7030 §4.2.1): it authenticates
// the requester and hands the CSR to the enrollment service.
func (s *Server) SimpleEnroll(ctx context.Context, req *Request) (*enroll.Result, error) {
	csr, err := parseCSR(req.CSR)
	if err != nil {
		return nil, err
	}
	cred, err := s.authenticate(req, csr, s.profile(req.Profile))
	if err != nil {
		return nil, err
	}
	return s.enroller.Enroll(ctx, s.enrollRequest(req, csr, req.CSR, cred))
}

// SimpleReenroll answers /simplereenroll (RFC 7030 §4.2.2): the TLS client
// certificate is the one being renewed, so enroll checks that certgate
// issued it and has not revoked it; here we check that the CSR keeps its
// identity. A profile may instead accept a registrar's certificate.
func (s *Server) SimpleReenroll(ctx context.Context, req *Request) (*enroll.Result, error) {
	csr, err := parseCSR(req.CSR)
	if err != nil {
		return nil, err
	}
	if len(req.ClientCerts) == 0 {
		return nil, errorf(http.StatusForbidden, "simplereenroll requires the TLS client certificate being renewed")
	}
	p := s.profile(req.Profile)
	if p.ReenrollByRegistrar {
		subject, ok := s.trustedClient(req.ClientCerts)
		if !ok {
			return nil, errorf(http.StatusForbidden, "the TLS client certificate is not from a trusted registrar")
		}
		return s.enroller.Enroll(ctx, s.enrollRequest(req, csr, req.CSR, credentials{authorizedBy: "registrar " + subject}))
	}
	current := req.ClientCerts[0]
	if !sameIdentity(csr, current) {
		return nil, errorf(http.StatusBadRequest, "the CSR's subject or subjectAltName differs from the certificate being renewed")
	}
	er := s.enrollRequest(req, csr, req.CSR, credentials{})
	er.RenewalOf = current
	return s.enroller.Enroll(ctx, er)
}

// ServerKeyGen answers /serverkeygen (RFC 7030 §4.4): certgate generates
// the key pair the profile names, issues a certificate for it with the
// client CSR's subject and extensions, and returns both. The key is
// PKCS#8 DER; certgate keeps a copy only when the profile escrows keys,
// sealed in the certificate's record.
func (s *Server) ServerKeyGen(ctx context.Context, req *Request) (*enroll.Result, []byte, error) {
	p := s.profile(req.Profile)
	if p.ServerKeyGen == nil {
		return nil, nil, errorf(http.StatusNotImplemented, "server key generation is not enabled for profile "+req.Profile)
	}
	csr, err := parseCSR(req.CSR)
	if err != nil {
		return nil, nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, nil, errorf(http.StatusBadRequest, "the CSR's signature does not verify")
	}
	cred, err := s.authenticate(req, csr, p)
	if err != nil {
		return nil, nil, err
	}
	key, pkcs8, err := p.ServerKeyGen.generate()
	if err != nil {
		return nil, nil, &Error{Status: http.StatusInternalServerError, Msg: "key generation failed", Err: err}
	}
	rawCSR, err := resignCSR(csr, key)
	if err != nil {
		return nil, nil, &Error{Status: http.StatusBadRequest, Msg: "the CSR cannot be carried over to a generated key", Err: err}
	}
	newCSR, err := x509.ParseCertificateRequest(rawCSR)
	if err != nil {
		return nil, nil, &Error{Status: http.StatusInternalServerError, Msg: "internal error", Err: err}
	}
	er := s.enrollRequest(req, newCSR, rawCSR, cred)
	er.GeneratedKey = pkcs8 // escrowed by enroll when the profile says so
	res, err := s.enroller.Enroll(ctx, er)
	if err != nil {
		return nil, nil, err
	}
	return res, pkcs8, nil
}

func (s *Server) enrollRequest(req *Request, csr *x509.CertificateRequest, raw []byte, cred credentials) *enroll.Request {
	return &enroll.Request{
		Protocol:     "est",
		Profile:      req.Profile,
		CSR:          csr,
		RawCSR:       raw,
		Challenge:    cred.challenge,
		AuthorizedBy: cred.authorizedBy,
		RemoteAddr:   req.RemoteAddr,
	}
}

func parseCSR(der []byte) (*x509.CertificateRequest, error) {
	if len(der) == 0 {
		return nil, errorf(http.StatusBadRequest, "empty body: expected a base64 PKCS#10 certificate request")
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Msg: "the body is not a PKCS#10 certificate request", Err: err}
	}
	return csr, nil
}

package intune

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"net/url"
	"slices"
	"time"

	"github.com/smallstep/scep/x509util"
)

// Challenge is what Intune expects of a CSR carrying one challenge, as a
// test registers it. Zero fields are not checked.
type Challenge struct {
	// TransactionID, when set, must be the request's transactionId
	// (BadCertificateRequestIdInChallenge otherwise).
	TransactionID string
	// Subject is the expected subject in pkix.Name.String() form
	// (SubjectNameMissing when the CSR has none, else SubjectNameMismatch).
	Subject string
	// DNSNames, URIs and Emails are the expected SANs, compared as sets;
	// URIs include IntuneDeviceId://... and tag:microsoft.com,2022-09-14:sid:...
	// (SubjectAltNameMissing when the CSR has none, else Mismatch).
	DNSNames []string
	URIs     []string
	Emails   []string
	// KeyUsage is the expected key usage extension (KeyUsageMismatch).
	KeyUsage x509.KeyUsage
	// KeyBits is the expected key size (KeyLengthMismatch).
	KeyBits int
	// EKUs are the expected extended key usages, as a set
	// (EnhancedKeyUsageMissing / EnhancedKeyUsageMismatch).
	EKUs []asn1.ObjectIdentifier
	// NotAfter is when the challenge expires (ChallengeExpired).
	NotAfter time.Time
	// Untargeted means the profile was unassigned from the device
	// (ScepProfileNoLongerTargetedToTheClient).
	Untargeted bool
	// Code, when set, is answered whatever the CSR holds: any §3.5 code,
	// or a string Intune has never sent, to test unknown codes.
	Code        string
	Description string
}

// AllowChallenge registers challenge. A CSR whose challengePassword is
// not registered gets ChallengeDecodingError, as in the reference
// library's own test doubles.
func (f *Fake) AllowChallenge(challenge string, c Challenge) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.challenges[challenge] = c
}

// RemoveChallenge forgets challenge.
func (f *Fake) RemoveChallenge(challenge string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.challenges, challenge)
}

var (
	oidKeyUsage    = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// judge decides the result code for a CSR and transaction.
func (f *Fake) judge(der []byte, txID string) (code, desc string) {
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return CodeCertificateRequestDecodingFailed, "the certificate request could not be decoded"
	}
	pw, err := x509util.ParseChallengePassword(der)
	if err != nil {
		return CodeCertificateRequestDecodingFailed, "the certificate request attributes could not be decoded"
	}
	if pw == "" {
		return CodeChallengePasswordMissing, "no challenge password in the certificate request"
	}
	f.mu.Lock()
	c, ok := f.challenges[pw]
	now := f.now()
	f.mu.Unlock()
	switch {
	case !ok:
		return CodeChallengeDecodingError, "the challenge could not be decoded"
	case c.Code != "":
		return c.Code, c.Description
	case c.TransactionID != "" && c.TransactionID != txID:
		return CodeBadCertificateRequestIDInChallenge, "the transaction does not match the challenge"
	case !c.NotAfter.IsZero() && !now.Before(c.NotAfter):
		return CodeChallengeExpired, "the challenge has expired"
	case c.Untargeted:
		return CodeScepProfileNoLongerTargetedToTheClient, "the SCEP profile is no longer targeted to the client"
	}
	if c.Subject != "" {
		got := csr.Subject.String()
		if got == "" {
			return CodeSubjectNameMissing, "the subject name is missing"
		}
		if got != c.Subject {
			return CodeSubjectNameMismatch, "the subject name does not match the profile"
		}
	}
	if c.DNSNames != nil || c.URIs != nil || c.Emails != nil {
		var uris []string
		for _, u := range csr.URIs {
			uris = append(uris, u.String())
		}
		if len(csr.DNSNames)+len(uris)+len(csr.EmailAddresses)+len(csr.IPAddresses) == 0 {
			return CodeSubjectAltNameMissing, "the subject alternative name is missing"
		}
		if !sameSet(c.DNSNames, csr.DNSNames) || !sameSet(normalURIs(c.URIs), uris) || !sameSet(c.Emails, csr.EmailAddresses) {
			return CodeSubjectAltNameMismatch, "the subject alternative name does not match the profile"
		}
	}
	if c.KeyUsage != 0 && keyUsage(csr) != c.KeyUsage {
		return CodeKeyUsageMismatch, "the key usage does not match the profile"
	}
	if c.KeyBits != 0 && keyBits(csr.PublicKey) != c.KeyBits {
		return CodeKeyLengthMismatch, "the key length does not match the profile"
	}
	if c.EKUs != nil {
		got, present := ekus(csr)
		if !present {
			return CodeEnhancedKeyUsageMissing, "the enhanced key usage is missing"
		}
		if !sameOIDs(c.EKUs, got) {
			return CodeEnhancedKeyUsageMismatch, "the enhanced key usage does not match the profile"
		}
	}
	return CodeSuccess, ""
}

// normalURIs puts expected URIs in the form x509 parsing gives (the
// scheme lower-cased), so IntuneDeviceId://x matches intunedeviceid://x.
func normalURIs(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if u, err := url.Parse(s); err == nil {
			s = u.String()
		}
		out = append(out, s)
	}
	return out
}

func sameSet(want, got []string) bool {
	a, b := slices.Clone(want), slices.Clone(got)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func sameOIDs(want, got []asn1.ObjectIdentifier) bool {
	if len(want) != len(got) {
		return false
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, w.Equal) {
			return false
		}
	}
	return true
}

// keyUsage reads the requested key usage extension; 0 when absent or
// malformed.
func keyUsage(csr *x509.CertificateRequest) x509.KeyUsage {
	for _, e := range csr.Extensions {
		if !e.Id.Equal(oidKeyUsage) {
			continue
		}
		var bits asn1.BitString
		if _, err := asn1.Unmarshal(e.Value, &bits); err != nil {
			return 0
		}
		var ku x509.KeyUsage
		for i := 0; i < 9; i++ {
			if bits.At(i) != 0 {
				ku |= 1 << uint(i)
			}
		}
		return ku
	}
	return 0
}

// ekus reads the requested EKU extension and whether it is present.
func ekus(csr *x509.CertificateRequest) ([]asn1.ObjectIdentifier, bool) {
	for _, e := range csr.Extensions {
		if !e.Id.Equal(oidExtKeyUsage) {
			continue
		}
		var oids []asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(e.Value, &oids); err != nil {
			return nil, true
		}
		return oids, true
	}
	return nil, false
}

func keyBits(pub any) int {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen()
	case *ecdsa.PublicKey:
		return k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return 256
	}
	return 0
}

package adminapi

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"time"

	"github.com/certgate/certgate/store"
)

// AdminCertIssuer signs and records an admin client certificate for csr
// (subject CN name, O AdminCertOrg, OU role) under AdminProfile.
type AdminCertIssuer interface {
	IssueAdminCert(ctx context.Context, csr *x509.CertificateRequest, name string, role Role, validity time.Duration) (*store.CertRecord, error)
}

// Admin certificate lifetimes.
const (
	defaultAdminCertValidity = 90 * 24 * time.Hour
	maxAdminCertValidity     = 397 * 24 * time.Hour
)

// newAdminCert issues an admin client certificate for the CSR in the body;
// the key never leaves the caller.
func (s *Server) newAdminCert(w http.ResponseWriter, r *http.Request) error {
	if s.admins == nil {
		return errorf(http.StatusNotImplemented, "admin certificates are not available")
	}
	var body struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		CSR      string `json:"csr_pem"`
		Validity string `json:"validity"`
	}
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	if body.Name == "" || len(body.Name) > 64 {
		return errorf(http.StatusBadRequest, "name is required (at most 64 characters)")
	}
	role, err := ParseRole(body.Role)
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	validity := defaultAdminCertValidity
	if body.Validity != "" {
		if validity, err = time.ParseDuration(body.Validity); err != nil || validity < time.Hour || validity > maxAdminCertValidity {
			return errorf(http.StatusBadRequest, "validity must be a duration from 1h to 9528h")
		}
	}
	block, _ := pem.Decode([]byte(body.CSR))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return errorf(http.StatusBadRequest, "csr_pem must be a PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		return errorf(http.StatusBadRequest, "csr_pem is not a valid, self-signed certificate request")
	}
	rec, err := s.admins.IssueAdminCert(r.Context(), csr, body.Name, role, validity)
	if err != nil {
		return &apiError{status: http.StatusInternalServerError, msg: "could not issue the admin certificate", err: err}
	}
	logAudit(r, "new admin certificate", rec.SerialHex+" ("+body.Name+", "+role.String()+")")
	writeJSON(w, http.StatusCreated, map[string]any{
		"certificate":     viewOf(rec),
		"certificate_pem": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rec.DER})),
	})
	return nil
}

package adminapi

import (
	"encoding/pem"
	"net/http"
)

// testCertificate issues a short-lived certificate through the profile's
// whole enrollment path (validator bypassed, flagged as a test in the
// store) and returns it with its key, so an admin can check a profile end
// to end.
func (s *Server) testCertificate(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if _, ok := s.profiles[name]; !ok {
		return errorf(http.StatusNotFound, "profile "+name+" not found")
	}
	if s.tester == nil {
		return errorf(http.StatusNotImplemented, "test certificates are not available")
	}
	rec, keyPEM, err := s.tester.IssueTest(r.Context(), name, principalFrom(r.Context()).Name)
	if err != nil {
		return &apiError{status: http.StatusUnprocessableEntity, msg: "the profile could not issue: " + err.Error()}
	}
	logAudit(r, "test certificate", rec.SerialHex)
	writeJSON(w, http.StatusCreated, map[string]any{
		"certificate":     viewOf(rec),
		"certificate_pem": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rec.DER})),
		"private_key_pem": string(keyPEM),
	})
	return nil
}

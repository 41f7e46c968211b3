package adminapi

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certgate/certgate/store"
)

// CertView is a certificate record as the API shows it: no DER (ask for
// PEM with Accept), the reason by name.
type CertView struct {
	Serial        string       `json:"serial"`
	Subject       string       `json:"subject"`
	CommonName    string       `json:"common_name"`
	SANs          SANs         `json:"sans"`
	Issuer        string       `json:"issuer"`
	Profile       string       `json:"profile"`
	Protocol      string       `json:"protocol"`
	Status        store.Status `json:"status"`
	NotBefore     time.Time    `json:"not_before"`
	NotAfter      time.Time    `json:"not_after"`
	RevokedAt     *time.Time   `json:"revoked_at,omitempty"`
	Reason        string       `json:"revocation_reason,omitempty"`
	DeviceID      string       `json:"device_id,omitempty"`
	TransactionID string       `json:"transaction_id,omitempty"`
	RenewalOf     string       `json:"renewal_of,omitempty"`
	Escrowed      bool         `json:"key_escrowed,omitempty"`
	Test          bool         `json:"test,omitempty"`
	CreatedAt     time.Time    `json:"created_at"`
	IssuedAt      *time.Time   `json:"issued_at,omitempty"`
}

// SANs are a certificate's subjectAltNames by type.
type SANs struct {
	DNS   []string `json:"dns,omitempty"`
	Email []string `json:"email,omitempty"`
	URI   []string `json:"uri,omitempty"`
	UPN   []string `json:"upn,omitempty"`
}

func viewOf(r *store.CertRecord) CertView {
	v := CertView{
		Serial: r.SerialHex, Subject: r.Subject, CommonName: r.CommonName,
		SANs:   SANs{DNS: r.DNSNames, Email: r.EmailAddrs, URI: r.URIs, UPN: r.UPNs},
		Issuer: r.Issuer, Profile: r.Profile, Protocol: r.Protocol, Status: r.Status,
		NotBefore: r.NotBefore, NotAfter: r.NotAfter, DeviceID: r.DeviceID,
		TransactionID: r.TransactionID, RenewalOf: r.RenewalOf, Escrowed: len(r.EscrowedKey) > 0, Test: r.Test,
		CreatedAt: r.CreatedAt,
	}
	if !r.RevokedAt.IsZero() {
		t := r.RevokedAt
		v.RevokedAt, v.Reason = &t, store.ReasonName(r.RevocationReason)
	}
	if !r.IssuedAt.IsZero() {
		t := r.IssuedAt
		v.IssuedAt = &t
	}
	return v
}

// Page sizes.
const (
	defaultPage = 100
	maxPage     = 1000
)

// queryOf reads the certificate filters shared by list, CSV and bulk
// revocation.
func queryOf(v url.Values) (store.Query, error) {
	var q store.Query
	if err := onlyParams(v, "status", "profile", "subject", "device_id", "expires_before", "expires_after", "cursor", "limit"); err != nil {
		return q, err
	}
	if s := v.Get("status"); s != "" {
		st, err := store.ParseStatus(s)
		if err != nil {
			return q, errorf(http.StatusBadRequest, err.Error())
		}
		q.Status = st
	}
	q.Profile, q.Subject, q.DeviceID, q.After = v.Get("profile"), v.Get("subject"), v.Get("device_id"), v.Get("cursor")
	for _, f := range []struct {
		key string
		dst *time.Time
	}{{"expires_before", &q.ExpiresBefore}, {"expires_after", &q.ExpiresAfter}} {
		if s := v.Get(f.key); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return q, errorf(http.StatusBadRequest, f.key+" must be RFC 3339 (2026-12-31T00:00:00Z)")
			}
			*f.dst = t
		}
	}
	var err error
	q.Limit, err = pageLimit(v)
	return q, err
}

// onlyParams refuses query parameters other than allowed: a misspelt
// filter must not silently widen a search (or a bulk revocation).
func onlyParams(v url.Values, allowed ...string) error {
	for k := range v {
		if !slices.Contains(allowed, k) {
			return errorf(http.StatusBadRequest, "unknown query parameter "+strconv.Quote(k))
		}
	}
	return nil
}

// pageLimit reads limit: default defaultPage, at most maxPage.
func pageLimit(v url.Values) (int, error) {
	s := v.Get("limit")
	if s == "" {
		return defaultPage, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxPage {
		return 0, errorf(http.StatusBadRequest, "limit must be 1.."+strconv.Itoa(maxPage))
	}
	return n, nil
}

func (s *Server) listCerts(w http.ResponseWriter, r *http.Request) error {
	q, err := queryOf(r.URL.Query())
	if err != nil {
		return err
	}
	recs, err := s.st.Search(r.Context(), q)
	if err != nil {
		return storeError("search", err)
	}
	out := struct {
		Certificates []CertView `json:"certificates"`
		NextCursor   string     `json:"next_cursor,omitempty"`
	}{Certificates: make([]CertView, 0, len(recs))}
	for _, rec := range recs {
		out.Certificates = append(out.Certificates, viewOf(rec))
	}
	if len(recs) == q.Limit {
		out.NextCursor = recs[len(recs)-1].SerialHex
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) record(r *http.Request) (*store.CertRecord, error) {
	serial, err := store.ParseSerial(r.PathValue("serial"))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, err.Error())
	}
	rec, err := s.st.Cert(r.Context(), serial)
	if err != nil {
		return nil, storeError("certificate "+r.PathValue("serial"), err)
	}
	return rec, nil
}

// wantsPEM reports whether the client asked for PEM rather than JSON.
func wantsPEM(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/pem-certificate-chain") || strings.Contains(a, "application/x-pem-file")
}

func (s *Server) getCert(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.record(r)
	if err != nil {
		return err
	}
	if wantsPEM(r) {
		if len(rec.DER) == 0 {
			return errorf(http.StatusNotFound, "certificate "+rec.SerialHex+" was reserved but never issued")
		}
		w.Header().Set("Content-Type", "application/pem-certificate-chain")
		return pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: rec.DER})
	}
	writeJSON(w, http.StatusOK, viewOf(rec))
	return nil
}

// revokeBody is the body of both revocation routes.
type revokeBody struct {
	Reason string            `json:"reason"`
	Filter map[string]string `json:"filter,omitempty"`
	DryRun bool              `json:"dry_run,omitempty"`
}

func parseReason(name string) (int, error) {
	if name == "" {
		name = "unspecified"
	}
	reason, err := store.ParseReason(name)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, err.Error())
	}
	return reason, nil
}

func (s *Server) revokeOne(w http.ResponseWriter, r *http.Request) error {
	var body revokeBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	if body.Filter != nil || body.DryRun {
		return errorf(http.StatusBadRequest, "filter and dry_run belong to POST /api/v1/certificates/revoke")
	}
	reason, err := parseReason(body.Reason)
	if err != nil {
		return err
	}
	serial, err := store.ParseSerial(r.PathValue("serial"))
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	rec, err := s.revoker.Revoke(r.Context(), serial, reason, s.now())
	if err != nil {
		return storeError("certificate "+r.PathValue("serial"), err)
	}
	logAudit(r, "revoke", rec.SerialHex)
	writeJSON(w, http.StatusOK, viewOf(rec))
	return nil
}

// releaseHold lifts a certificateHold (RFC 5280 removeFromCRL): the
// certificate is good again in OCSP at once and leaves the next CRL. Any
// other revocation is final, and a certificate not on hold is a 409.
func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request) error {
	serial, err := store.ParseSerial(r.PathValue("serial"))
	if err != nil {
		return errorf(http.StatusBadRequest, err.Error())
	}
	rec, err := s.revoker.ReleaseHold(r.Context(), serial)
	if errors.Is(err, store.ErrConflict) {
		return errorf(http.StatusConflict, "certificate "+r.PathValue("serial")+" is not on certificateHold; only a hold can be released")
	}
	if err != nil {
		return storeError("certificate "+r.PathValue("serial"), err)
	}
	logAudit(r, "release-hold", rec.SerialHex)
	writeJSON(w, http.StatusOK, viewOf(rec))
	return nil
}

// revokeBulk revokes every valid certificate matching a non-empty filter;
// with dry_run it only counts them.
func (s *Server) revokeBulk(w http.ResponseWriter, r *http.Request) error {
	var body revokeBody
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	if len(body.Filter) == 0 {
		return errorf(http.StatusBadRequest, "a filter is required: bulk revocation of everything is not offered")
	}
	reason, err := parseReason(body.Reason)
	if err != nil {
		return err
	}
	v := url.Values{}
	for k, val := range body.Filter {
		if k == "cursor" || k == "limit" || k == "status" {
			return errorf(http.StatusBadRequest, "filter key "+k+" is not allowed here")
		}
		v.Set(k, val)
	}
	q, err := queryOf(v)
	if err != nil {
		return err
	}
	q.Status, q.Limit = store.StatusValid, maxPage
	var matched, revoked int
	var failed []string
	for {
		recs, err := s.st.Search(r.Context(), q)
		if err != nil {
			return storeError("search", err)
		}
		for _, rec := range recs {
			matched++
			if body.DryRun {
				continue
			}
			if _, err := s.revoker.Revoke(r.Context(), rec.Serial, reason, s.now()); err != nil {
				failed = append(failed, rec.SerialHex)
				continue
			}
			revoked++
		}
		if len(recs) < q.Limit {
			break
		}
		q.After = recs[len(recs)-1].SerialHex
	}
	if !body.DryRun {
		logAudit(r, "bulk revoke", strconv.Itoa(revoked)+" certificates")
	}
	// Failures are listed in the answer; each is safe to retry.
	writeJSON(w, http.StatusOK, map[string]any{"matched": matched, "revoked": revoked, "failed": failed, "dry_run": body.DryRun})
	return nil
}

package adminapi

import (
	"encoding/pem"
	"net/http"
	"net/url"
	"time"

	"github.com/certgate/certgate/store"
)

// RequestView is a held request as the API shows it, the CSR as PEM.
type RequestView struct {
	ID            string              `json:"id"`
	Profile       string              `json:"profile"`
	Protocol      string              `json:"protocol"`
	TransactionID string              `json:"transaction_id,omitempty"`
	Subject       string              `json:"subject"`
	DeviceID      string              `json:"device_id,omitempty"`
	RequesterAddr string              `json:"requester_addr,omitempty"`
	Status        store.RequestStatus `json:"status"`
	CreatedAt     time.Time           `json:"created_at"`
	DecidedAt     *time.Time          `json:"decided_at,omitempty"`
	DecidedBy     string              `json:"decided_by,omitempty"`
	Reason        string              `json:"reason,omitempty"`
	Serial        string              `json:"serial,omitempty"`
	CSR           string              `json:"csr_pem"`
}

func requestView(p *store.PendingRequest) RequestView {
	v := RequestView{
		ID: p.ID, Profile: p.Profile, Protocol: p.Protocol, TransactionID: p.TransactionID,
		Subject: p.Subject, DeviceID: p.DeviceID, RequesterAddr: p.RequesterAddr, Status: p.Status,
		CreatedAt: p.CreatedAt, DecidedBy: p.DecidedBy, Reason: p.Reason, Serial: p.Serial,
		CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: p.CSR})),
	}
	if !p.DecidedAt.IsZero() {
		t := p.DecidedAt
		v.DecidedAt = &t
	}
	return v
}

func requestQuery(v url.Values) (store.RequestQuery, error) {
	q := store.RequestQuery{Profile: v.Get("profile"), After: v.Get("cursor")}
	if err := onlyParams(v, "status", "profile", "cursor", "limit"); err != nil {
		return q, err
	}
	if s := v.Get("status"); s != "" {
		st, err := store.ParseRequestStatus(s)
		if err != nil {
			return q, errorf(http.StatusBadRequest, err.Error())
		}
		q.Status = st
	}
	var err error
	q.Limit, err = pageLimit(v)
	return q, err
}

func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) error {
	q, err := requestQuery(r.URL.Query())
	if err != nil {
		return err
	}
	reqs, err := s.st.SearchRequests(r.Context(), q)
	if err != nil {
		return storeError("search requests", err)
	}
	out := struct {
		Requests   []RequestView `json:"requests"`
		NextCursor string        `json:"next_cursor,omitempty"`
	}{Requests: make([]RequestView, 0, len(reqs))}
	for _, p := range reqs {
		out.Requests = append(out.Requests, requestView(p))
	}
	if len(reqs) == q.Limit {
		out.NextCursor = reqs[len(reqs)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) error {
	p, err := s.st.Request(r.Context(), r.PathValue("id"))
	if err != nil {
		return storeError("request "+r.PathValue("id"), err)
	}
	writeJSON(w, http.StatusOK, requestView(p))
	return nil
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request) error { return s.decide(w, r, true) }
func (s *Server) reject(w http.ResponseWriter, r *http.Request) error  { return s.decide(w, r, false) }

// decide approves or rejects a pending request. The certificate is issued
// when the requester comes back (SCEP poll, EST retry), through the same
// enrollment path as any other.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, approve bool) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if err := readJSON(w, r, &body); err != nil {
		return err
	}
	id := r.PathValue("id")
	p, err := s.st.DecideRequest(r.Context(), id, approve, principalFrom(r.Context()).Name, body.Reason, s.now())
	if err != nil {
		return storeError("request "+id, err)
	}
	action := "reject"
	if approve {
		action = "approve"
	}
	logAudit(r, action, id)
	writeJSON(w, http.StatusOK, requestView(p))
	return nil
}

package store

import (
	"context"
	"time"
)

// RequestStatus is the state of an enrollment request held for approval.
type RequestStatus string

// Request states. A request is created pending; an operator approves or
// rejects it; an approved request becomes issued when the requester comes
// back (SCEP GetCertInitial or a re-sent PKCSReq, EST retry) and the
// certificate is recorded.
const (
	RequestPending  RequestStatus = "pending"
	RequestApproved RequestStatus = "approved"
	RequestRejected RequestStatus = "rejected"
	RequestIssued   RequestStatus = "issued"
)

// ParseRequestStatus accepts the four names.
func ParseRequestStatus(s string) (RequestStatus, error) {
	switch RequestStatus(s) {
	case RequestPending, RequestApproved, RequestRejected, RequestIssued:
		return RequestStatus(s), nil
	}
	return "", &invalidError{"unknown request status " + s + " (want pending, approved, rejected or issued)"}
}

// PendingRequest is an enrollment request parked until an operator decides.
// SCEP and EST share it: the requester is found again by Key.
type PendingRequest struct {
	// ID is random (128 bits, hex); the admin API and CLI address it.
	ID string `json:"id"`
	// Profile and Key identify the requester when it comes back: Key is
	// "scep:<transaction ID>" or "est:<SHA-256 of the CSR>".
	// (Profile, Key) is unique among requests.
	Profile  string `json:"profile"`
	Key      string `json:"key"`
	Protocol string `json:"protocol"`
	// TransactionID is the SCEP transaction ID, if any.
	TransactionID string `json:"transaction_id,omitempty"`
	Subject       string `json:"subject"`
	// CSR is the DER request, issued as is once approved.
	CSR           []byte        `json:"csr"`
	DeviceID      string        `json:"device_id,omitempty"`
	RequesterAddr string        `json:"requester_addr,omitempty"`
	Status        RequestStatus `json:"status"`
	CreatedAt     time.Time     `json:"created_at"`
	// DecidedAt, DecidedBy and Reason are set by the approval or rejection.
	DecidedAt time.Time `json:"decided_at,omitempty"`
	DecidedBy string    `json:"decided_by,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	// Serial is the issued certificate (hex) once Status is issued.
	Serial string `json:"serial,omitempty"`
}

// RequestQuery selects requests. Results are ordered by ID.
type RequestQuery struct {
	// Status filters; zero means all.
	Status RequestStatus
	// Profile must match exactly; zero means all.
	Profile string
	// After is a cursor: only IDs sorting after it.
	After string
	// Limit: zero means DefaultLimit, negative means no cap.
	Limit int
}

// Requests keeps enrollment requests held for approval. Every write is
// durable when the method returns.
type Requests interface {
	// CreateRequest stores r (status pending). ErrConflict when its ID, or
	// its (Profile, Key), is already taken.
	CreateRequest(ctx context.Context, r *PendingRequest) error
	// Request returns the request with that ID, or ErrNotFound.
	Request(ctx context.Context, id string) (*PendingRequest, error)
	// RequestByKey returns the request of (profile, key), or ErrNotFound.
	RequestByKey(ctx context.Context, profile, key string) (*PendingRequest, error)
	// DecideRequest approves or rejects a pending request in one step:
	// ErrNotFound for an unknown ID, ErrConflict when it is not pending
	// (deciding twice is a conflict, not an overwrite).
	DecideRequest(ctx context.Context, id string, approve bool, by, reason string, at time.Time) (*PendingRequest, error)
	// CompleteRequest marks an approved request issued with serialHex:
	// ErrConflict unless it is approved.
	CompleteRequest(ctx context.Context, id, serialHex string) error
	// SearchRequests returns the requests matching q, ordered by ID.
	SearchRequests(ctx context.Context, q RequestQuery) ([]*PendingRequest, error)
}

// Challenge is a one-time enrollment challenge, stored by the hash of its
// secret so the store never holds a usable secret.
type Challenge struct {
	// Hash is the hex SHA-256 of the secret; unique per profile.
	Hash    string `json:"hash"`
	Profile string `json:"profile"`
	// Subject and DeviceID, when set, bind the challenge: only a request
	// for that subject CN or device ID may use it.
	Subject   string    `json:"subject,omitempty"`
	DeviceID  string    `json:"device_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Challenges keeps one-time challenges.
type Challenges interface {
	// PutChallenge stores c; ErrConflict when (Profile, Hash) exists.
	PutChallenge(ctx context.Context, c *Challenge) error
	// ConsumeChallenge removes and returns the challenge (profile, hash) in
	// one atomic step, so of two concurrent callers exactly one gets it.
	// ErrNotFound when there is none, or when it expired before now (an
	// expired challenge is removed as well).
	ConsumeChallenge(ctx context.Context, profile, hash string, now time.Time) (*Challenge, error)
}

// invalidError is an ErrInvalid with a message.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return "store: " + e.msg }
func (e *invalidError) Unwrap() error { return ErrInvalid }

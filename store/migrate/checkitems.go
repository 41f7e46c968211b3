package migrate

import (
	"context"
	"fmt"

	"github.com/certgate/certgate/store"
)

// requests checks each request and its indexes.
func (c *checker) requests(ctx context.Context) error {
	byStatus := map[store.RequestStatus]int{}
	after := ""
	for {
		page, err := c.s.SearchRequests(ctx, store.RequestQuery{After: after, Limit: c.opts.BatchSize})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			c.add(Error, "request", "", "listing requests failed: %v", err)
			break
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			c.rep.Requests++
			byStatus[r.Status]++
			c.request(ctx, r)
		}
		after = page[len(page)-1].ID
	}
	for _, status := range []store.RequestStatus{store.RequestPending, store.RequestApproved, store.RequestRejected, store.RequestIssued} {
		n, after := 0, ""
		for {
			page, err := c.s.SearchRequests(ctx, store.RequestQuery{Status: status, After: after, Limit: c.opts.BatchSize})
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				c.add(Error, "request", "", "listing %s requests failed: %v", status, err)
				break
			}
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				n++
				if r.Status != status {
					c.add(Error, "request", fmt.Sprintf("%q", r.ID), "listing %s requests returned it, but it is %q", status, r.Status)
				}
			}
			after = page[len(page)-1].ID
		}
		if n != byStatus[status] {
			c.add(Error, "request", "", "listing %s requests returned %d, listing all requests found %d (status index)", status, n, byStatus[status])
		}
	}
	return nil
}

// request checks one request.
func (c *checker) request(ctx context.Context, r *store.PendingRequest) {
	id := fmt.Sprintf("%q", r.ID)
	if _, err := store.ParseRequestStatus(string(r.Status)); err != nil {
		c.add(Error, "request", id, "unknown status %q", r.Status)
	}
	got, err := c.s.RequestByKey(ctx, r.Profile, r.Key)
	switch {
	case err != nil:
		c.add(Error, "request", id, "its profile and key do not find it: %v", err)
	case got.ID != r.ID:
		c.add(Error, "request", id, "its profile and key find request %q instead", got.ID)
	}
	switch decided := r.Status != store.RequestPending; {
	case decided && r.DecidedAt.IsZero():
		c.add(Warning, "request", id, "%s without a decision time", r.Status)
	case !decided && !r.DecidedAt.IsZero():
		c.add(Warning, "request", id, "pending, but decided at %s", stamp(r.DecidedAt))
	}
	switch issued := r.Status == store.RequestIssued; {
	case issued && r.Serial == "":
		c.add(Error, "request", id, "issued without a certificate serial")
	case !issued && r.Serial != "":
		c.add(Error, "request", id, "%s, but has certificate serial %s", r.Status, r.Serial)
	}
	if r.Status != store.RequestIssued || r.Serial == "" || c.opts.Quick {
		return
	}
	serial, err := store.ParseSerial(r.Serial)
	if err == nil {
		var rec *store.CertRecord
		rec, err = c.s.Cert(ctx, serial)
		if err == nil && rec.Status == store.StatusReserved {
			err = fmt.Errorf("it is only reserved")
		}
	}
	if err != nil {
		c.add(Error, "request", id, "issued as %s, but that certificate cannot be found: %v", r.Serial, err)
	}
}

// tokens checks that each token is found by its hash, as the admin API
// finds it.
func (c *checker) tokens(ctx context.Context) error {
	list, err := c.s.ListTokens(ctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		c.add(Error, "token", "", "listing tokens failed: %v", err)
		return nil
	}
	for _, t := range list {
		c.rep.Tokens++
		id := fmt.Sprintf("%q", t.ID)
		got, err := c.s.TokenByHash(ctx, t.Hash)
		switch {
		case err != nil:
			c.add(Error, "token", id, "its hash does not find it: %v", err)
		case got.ID != t.ID:
			c.add(Error, "token", id, "its hash finds token %q instead", got.ID)
		}
	}
	return ctx.Err()
}

package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/certgate/certgate/store"
)

// SearchRequests implements store.Requests. IDs are ordered, and the
// cursor q.After compared, as bytes: the id column is COLLATE "C". With
// q.Status set the planner can walk requests_status_id, which is in ID
// order too, so listing the pending requests never reads the finished
// ones. Each call is one query, hence one snapshot.
func (s *Store) SearchRequests(ctx context.Context, q store.RequestQuery) ([]*store.PendingRequest, error) {
	sql, args, err := requestSearchSQL(q)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: search requests: %w", err)
	}
	return queryAll(ctx, s, "search requests", scanRequest, sql, args...)
}

// requestSearchSQL translates q; an empty statement means nothing can
// match (a profile no request can have).
func requestSearchSQL(q store.RequestQuery) (string, []any, error) {
	var (
		conds []string
		args  []any
	)
	// add appends a condition whose "?" stands for arg.
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	if q.Status != "" {
		if _, err := store.ParseRequestStatus(string(q.Status)); err != nil {
			return "", nil, err
		}
		add("status = ?", string(q.Status))
	}
	if q.Profile != "" {
		if !storableText(q.Profile) {
			return "", nil, nil
		}
		add("profile = ?", q.Profile)
	}
	switch {
	case q.After == "":
	case storableText(q.After):
		add("id > ?", q.After)
	default:
		// A cursor text cannot hold (the API passes on whatever the
		// client sent) is compared as the bytes it is, against the
		// stored IDs' UTF-8 bytes: the order is the same, only the index
		// cannot serve it.
		add("convert_to(id, 'UTF8') > ?", []byte(q.After))
	}
	sql := "SELECT " + requestColumns + " FROM requests"
	if len(conds) > 0 {
		sql += " WHERE " + strings.Join(conds, " AND ")
	}
	sql += " ORDER BY id"
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultLimit
	}
	if limit > 0 {
		args = append(args, limit)
		sql += " LIMIT $" + strconv.Itoa(len(args))
	}
	return sql, args, nil
}

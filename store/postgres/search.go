package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/certgate/certgate/store"
)

// Search implements store.Store with store.Query semantics: results and
// the q.After cursor are ordered by the serial's numeric value (the
// primary key's byte order). Every filter is SQL, so the database returns
// only the page asked for, and the planner picks among the indexes of
// migrations/0001_init.sql.
func (s *Store) Search(ctx context.Context, q store.Query) ([]*store.CertRecord, error) {
	sql, args, err := searchSQL(q)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: search: %w", err)
	}
	return queryAll(ctx, s, "search", scanRecord, sql, args...)
}

// searchSQL translates q; an empty statement means nothing can match (a
// cursor beyond the largest storable serial).
func searchSQL(q store.Query) (string, []any, error) {
	var (
		conds []string
		args  []any
	)
	// add appends a condition whose "?" stands for arg.
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	switch q.Status {
	case "":
		conds = append(conds, "status <> 'reserved'")
	default:
		if _, err := store.ParseStatus(string(q.Status)); err != nil {
			return "", nil, fmt.Errorf("%w: %w", err, store.ErrInvalid)
		}
		add("status = ?", string(q.Status))
	}
	if q.After != "" {
		serial, err := store.ParseSerial(q.After)
		if err != nil {
			return "", nil, fmt.Errorf("cursor: %w: %w", err, store.ErrInvalid)
		}
		sk, ok := serialKey(serial)
		if !ok {
			return "", nil, nil
		}
		add("serial > ?", sk)
	}
	if q.Profile != "" {
		add("profile = ?", cleanText(q.Profile))
	}
	if q.CommonName != "" {
		add("common_name = ?", cleanText(q.CommonName))
	}
	if q.DeviceID != "" {
		add("device_id = ?", cleanText(q.DeviceID))
	}
	if !q.ExpiresBefore.IsZero() {
		add("not_after < ?", q.ExpiresBefore)
	}
	if !q.ExpiresAfter.IsZero() {
		add("not_after >= ?", q.ExpiresAfter)
	}
	if q.Subject != "" {
		// strpos, not LIKE: no wildcards to escape, and no collation.
		add("strpos(subject_lower, ?) > 0", strings.ToLower(cleanText(q.Subject)))
	}
	sql := "SELECT " + recordColumns + " FROM certs WHERE " + strings.Join(conds, " AND ") + " ORDER BY serial"
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

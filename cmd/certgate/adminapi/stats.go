package adminapi

import (
	"net/http"
	"time"

	"github.com/certgate/certgate/store"
)

// stats counts records by status and profile and the valid ones expiring
// soon, reading the store a page at a time.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	now := s.now()
	byStatus := map[store.Status]int{}
	byProfile := map[string]map[store.Status]int{}
	var exp7, exp30, total int
	q := store.Query{Limit: maxPage}
	for {
		recs, err := s.st.Search(r.Context(), q)
		if err != nil {
			return storeError("search", err)
		}
		for _, rec := range recs {
			total++
			byStatus[rec.Status]++
			if byProfile[rec.Profile] == nil {
				byProfile[rec.Profile] = map[store.Status]int{}
			}
			byProfile[rec.Profile][rec.Status]++
			if rec.Status == store.StatusValid && rec.NotAfter.After(now) {
				if rec.NotAfter.Before(now.Add(7 * 24 * time.Hour)) {
					exp7++
				}
				if rec.NotAfter.Before(now.Add(30 * 24 * time.Hour)) {
					exp30++
				}
			}
		}
		if len(recs) < q.Limit {
			break
		}
		q.After = recs[len(recs)-1].SerialHex
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"total": total, "by_status": byStatus, "by_profile": byProfile,
		"expiring_within_7d": exp7, "expiring_within_30d": exp30,
	})
	return nil
}

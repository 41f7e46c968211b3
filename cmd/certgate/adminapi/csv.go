package adminapi

import (
	"encoding/csv"
	"net/http"
	"strings"
	"time"

	"github.com/certgate/certgate/store"
)

// csvPage is how many records one Search reads: the export holds one page
// in memory at a time, whatever the store's size.
const csvPage = 500

var csvHeader = []string{"serial", "subject_cn", "sans", "profile", "protocol", "status",
	"not_before", "not_after", "revoked_at", "reason", "device_id", "user"}

// exportCSV streams every record matching the filters (cursor and limit
// ignored) as CSV, page by page.
func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) error {
	q, err := queryOf(r.URL.Query())
	if err != nil {
		return err
	}
	q.After, q.Limit = "", csvPage
	// The first page is read before the header goes out, so a store error
	// can still be a proper JSON error.
	recs, err := s.st.Search(r.Context(), q)
	if err != nil {
		return storeError("search", err)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="certificates.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(csvHeader)
	flusher, _ := w.(http.Flusher)
	for {
		for _, rec := range recs {
			_ = cw.Write(csvRow(rec))
		}
		cw.Flush()
		if cw.Error() != nil {
			return nil // the client went away; nothing more to tell it
		}
		if flusher != nil {
			flusher.Flush()
		}
		if len(recs) < q.Limit {
			return nil
		}
		q.After = recs[len(recs)-1].SerialHex
		if recs, err = s.st.Search(r.Context(), q); err != nil {
			// The status line is gone: end the body here. The client gets
			// a short file, and the log says why.
			logAudit(r, "csv export aborted", err.Error())
			return nil
		}
	}
}

func csvRow(r *store.CertRecord) []string {
	var sans []string
	for _, d := range r.DNSNames {
		sans = append(sans, "dns:"+d)
	}
	for _, e := range r.EmailAddrs {
		sans = append(sans, "email:"+e)
	}
	for _, u := range r.URIs {
		sans = append(sans, "uri:"+u)
	}
	for _, u := range r.UPNs {
		sans = append(sans, "upn:"+u)
	}
	user := ""
	switch {
	case len(r.UPNs) > 0:
		user = r.UPNs[0]
	case len(r.EmailAddrs) > 0:
		user = r.EmailAddrs[0]
	}
	revokedAt, reason := "", ""
	if !r.RevokedAt.IsZero() {
		revokedAt, reason = r.RevokedAt.UTC().Format(time.RFC3339), reasonName(r.RevocationReason)
	}
	return []string{r.SerialHex, csvSafe(r.CommonName), csvSafe(strings.Join(sans, " ")), r.Profile, r.Protocol, string(r.Status),
		r.NotBefore.UTC().Format(time.RFC3339), r.NotAfter.UTC().Format(time.RFC3339), revokedAt, reason, csvSafe(r.DeviceID), csvSafe(user)}
}

func reasonName(code int) string { return store.ReasonName(code) }

// csvSafe defuses spreadsheet formula injection: a device controls its CN
// and SANs, and a cell starting with = + - @ runs as a formula in Excel.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

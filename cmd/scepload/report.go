package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/certgate/certgate/cmd/internal/loadstats"
)

func method(useGET bool) string {
	if useGET {
		return http.MethodGet
	}
	return http.MethodPost
}

// caDescriptions names each GetCACert certificate and its key, so a
// comparison can say what each server signs with.
func caDescriptions(c *client) []string {
	out := make([]string, 0, len(c.caCerts))
	for _, cert := range c.caCerts {
		name := cert.Subject.CommonName
		if name == "" {
			name = cert.Subject.String()
		}
		out = append(out, name+" ("+keyDescription(cert.PublicKey)+")")
	}
	return out
}

// keyDescription names a public key's algorithm and size, e.g. "RSA-3072".
func keyDescription(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA-" + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	default:
		return fmt.Sprintf("%T", pub)
	}
}

// report is the -json line. Field names are a stable interface for scripts.
type report struct {
	URL                  string         `json:"url"`
	Method               string         `json:"method"`
	Cipher               string         `json:"cipher"`
	KeyBits              int            `json:"key_bits"`
	Keys                 int            `json:"keys"`
	Concurrency          int            `json:"concurrency"`
	CACerts              []string       `json:"ca_certs"`
	Total                int            `json:"total"`
	OK                   int            `json:"ok"`
	Failed               int            `json:"failed"`
	Failures             map[string]int `json:"failures"`
	DuplicateSerials     int            `json:"duplicate_serials"`
	WallSeconds          float64        `json:"wall_seconds"`
	EnrollmentsPerSecond float64        `json:"enrollments_per_second"`
	P50ms                float64        `json:"p50_ms"`
	P90ms                float64        `json:"p90_ms"`
	P99ms                float64        `json:"p99_ms"`
	MaxMs                float64        `json:"max_ms"`
}

func printJSON(w io.Writer, o *options, c *client, res *result) error {
	s := loadstats.Summarize(res.latencies)
	b, err := json.Marshal(report{
		URL: o.url, Method: method(o.useGET), Cipher: o.cipher, KeyBits: o.plan.keyBits,
		Keys: o.plan.keys, Concurrency: o.plan.concurrency, CACerts: caDescriptions(c),
		Total: res.total, OK: res.ok, Failed: res.total - res.ok, Failures: res.failures,
		DuplicateSerials: res.duplicateSerials,
		WallSeconds:      res.wall.Seconds(), EnrollmentsPerSecond: loadstats.Rate(res.ok, res.wall),
		P50ms: loadstats.Ms(s.P50), P90ms: loadstats.Ms(s.P90), P99ms: loadstats.Ms(s.P99), MaxMs: loadstats.Ms(s.Max),
	})
	if err != nil {
		return fmt.Errorf("scepload: encode report: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func printText(w io.Writer, o *options, c *client, res *result) error {
	s := loadstats.Summarize(res.latencies)
	var b strings.Builder
	fmt.Fprintf(&b, "target      %s (%s, %s, %d-bit client keys x%d, concurrency %d)\n",
		o.url, method(o.useGET), o.cipher, o.plan.keyBits, o.plan.keys, o.plan.concurrency)
	for _, d := range caDescriptions(c) {
		fmt.Fprintf(&b, "ca cert     %s\n", d)
	}
	fmt.Fprintf(&b, "total       %d\nok          %d\nfailed      %d\n", res.total, res.ok, res.total-res.ok)
	reasons := make([]string, 0, len(res.failures))
	for r := range res.failures {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	for _, r := range reasons {
		fmt.Fprintf(&b, "  %-22s %d\n", r, res.failures[r])
	}
	if res.duplicateSerials > 0 {
		fmt.Fprintf(&b, "WARNING     %d issued certificates repeat an earlier serial number\n", res.duplicateSerials)
	}
	fmt.Fprintf(&b, "wall        %.3fs\nrate        %.1f enrollments/s\n", res.wall.Seconds(), loadstats.Rate(res.ok, res.wall))
	fmt.Fprintf(&b, "latency     p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms\n", loadstats.Ms(s.P50), loadstats.Ms(s.P90), loadstats.Ms(s.P99), loadstats.Ms(s.Max))
	_, err := io.WriteString(w, b.String())
	return err
}

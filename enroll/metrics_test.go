package enroll_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/certgate/certgate/enroll"
)

// TestEnrollMetrics runs one enrollment of each outcome and checks the
// counter labels each lands on.
func TestEnrollMetrics(t *testing.T) {
	e := newEnv(t, testCA)
	reg := prometheus.NewRegistry()
	svc := e.service(t, func(o *enroll.Options) { o.Metrics = enroll.NewMetrics(reg) })
	ctx := context.Background()

	issued, err := svc.Enroll(ctx, request(newCSR(t, ecKey, "m-issued"), secret1))
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	renewal := request(newCSR(t, ecKey, "m-issued"), "")
	renewal.RenewalOf = issued.Cert
	if _, err := svc.Enroll(ctx, renewal); err != nil {
		t.Fatalf("renew: %v", err)
	}
	unknown := request(newCSR(t, ecKey, "m-unknown"), secret1)
	unknown.Profile = "printers"
	mdm := request(newCSR(t, ecKey, "m-mdm"), secret1)
	mdm.Profile = "mdm"
	est := request(newCSR(t, weakKey, "m-est"), secret1)
	est.Protocol = "est"
	for _, r := range []*enroll.Request{
		request(newCSR(t, ecKey, "m-wrong"), "wrong"),  // rejected
		request(newCSR(t, ecKey, "m-missing"), ""),     // rejected
		request(newCSR(t, weakKey, "m-weak"), secret1), // invalid
		unknown, // invalid, under the requested profile name
		mdm,     // error
		est,     // invalid, under protocol est
	} {
		if _, err := svc.Enroll(ctx, r); err == nil {
			t.Fatalf("%s: Enroll succeeded, want a failure", r.CSR.Subject.CommonName)
		}
	}

	const want = `
# HELP certgate_enrollments_total Enrollment requests by protocol, profile and result (issued, renewed, rejected, invalid, error).
# TYPE certgate_enrollments_total counter
certgate_enrollments_total{profile="device",protocol="est",result="invalid"} 1
certgate_enrollments_total{profile="device",protocol="scep",result="invalid"} 1
certgate_enrollments_total{profile="device",protocol="scep",result="issued"} 1
certgate_enrollments_total{profile="device",protocol="scep",result="rejected"} 2
certgate_enrollments_total{profile="device",protocol="scep",result="renewed"} 1
certgate_enrollments_total{profile="mdm",protocol="scep",result="error"} 1
certgate_enrollments_total{profile="printers",protocol="scep",result="invalid"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "certgate_enrollments_total"); err != nil {
		t.Error(err)
	}
	if got, _ := durationStats(t, reg); got != 8 {
		t.Errorf("duration histogram holds %d observations, want 8 (one per Enroll)", got)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric lint: %s: %s", p.Metric, p.Text)
	}
}

// TestEnrollDurationUsesWallClock: Options.Now is the clock decisions are
// made by (tests move it to years ahead); the latency histogram must still
// measure real elapsed time, never a negative or years-long duration.
func TestEnrollDurationUsesWallClock(t *testing.T) {
	e := newEnv(t, testCA)
	reg := prometheus.NewRegistry()
	future := time.Now().AddDate(2, 0, 0)
	svc := e.service(t, func(o *enroll.Options) {
		o.Metrics = enroll.NewMetrics(reg)
		o.Now = func() time.Time { return future }
	})
	if _, err := svc.Enroll(context.Background(), request(newCSR(t, ecKey, "clock"), "wrong")); err == nil {
		t.Fatal("Enroll succeeded with a wrong challenge")
	}
	if n, sum := durationStats(t, reg); n != 1 || sum < 0 || sum > time.Hour.Seconds() {
		t.Errorf("enrollment duration: %d observations summing to %gs, want 1 of the real elapsed time", n, sum)
	}
}

// durationStats returns the observation count and sum of
// certgate_enrollment_duration_seconds over all label values.
func durationStats(t *testing.T, reg *prometheus.Registry) (count uint64, sum float64) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range families {
		if mf.GetName() != "certgate_enrollment_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			count += m.GetHistogram().GetSampleCount()
			sum += m.GetHistogram().GetSampleSum()
		}
	}
	return count, sum
}

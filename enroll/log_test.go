package enroll_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/certgate/certgate/enroll"
)

// TestEnrollLogOmitsChallenge: the one log line of a refused enrollment
// says what happened and to which profile, and never holds what the
// requester sent as its challenge (often a near-miss of the real secret).
func TestEnrollLogOmitsChallenge(t *testing.T) {
	e := newEnv(t, testCA)
	svc := e.service(t, nil)
	var buf bytes.Buffer
	ctx := zerolog.New(&buf).WithContext(context.Background())
	const sent = "first-secret-0b5X" // one character off secret1

	_, err := svc.Enroll(ctx, request(newCSR(t, ecKey, "log-device"), sent))
	var f *enroll.Failure
	if !errors.As(err, &f) || f.Reason != enroll.Unauthorized {
		t.Fatalf("Enroll error = %v, want an Unauthorized failure", err)
	}

	out := buf.String()
	if strings.Contains(out, sent) || strings.Contains(out, secret1) || strings.Contains(out, secret2) {
		t.Fatalf("log holds a challenge or secret: %s", out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1: %s", len(lines), out)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatalf("log line is not JSON: %v: %s", err, lines[0])
	}
	for k, want := range map[string]string{
		"level": "warn", "outcome": "rejected", "profile": "device", "protocol": "scep", "message": "enrollment",
	} {
		if got, _ := line[k].(string); got != want {
			t.Errorf("log %s = %q, want %q (line %s)", k, got, want, lines[0])
		}
	}
	if got, _ := line["error"].(string); !strings.Contains(got, "wrong challenge") {
		t.Errorf("log error = %q, want the rejection reason", got)
	}
}

// An issued certificate is logged at info with its serial and subject.
func TestEnrollLogIssued(t *testing.T) {
	e := newEnv(t, testCA)
	var buf bytes.Buffer
	ctx := zerolog.New(&buf).WithContext(context.Background())
	res, err := e.service(t, nil).Enroll(ctx, request(newCSR(t, ecKey, "log-issued"), secret1))
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &line); err != nil {
		t.Fatalf("log is not one JSON line: %v: %s", err, buf.String())
	}
	for k, want := range map[string]string{
		"level": "info", "outcome": "issued", "serial": res.Record.SerialHex, "subject": res.Record.Subject,
	} {
		if got, _ := line[k].(string); got != want {
			t.Errorf("log %s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(buf.String(), secret1) {
		t.Errorf("log holds the secret: %s", buf.String())
	}
}

package intune

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSafeCode(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"ok/known", "ChallengeExpired", "ChallengeExpired"},
		{"ok/unknown but plain", "Something_New-2.0", "Something_New-2.0"},
		{"fail/empty", "", "unrecognised code"},
		{"fail/spaces", "Challenge Expired", "unrecognised code"},
		{"fail/markup", "<script>", "unrecognised code"},
		{"fail/newline", "Code\nInjected: log", "unrecognised code"},
		{"fail/too long", strings.Repeat("A", 65), "unrecognised code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := safeCode(tt.in); got != tt.want {
				t.Errorf("safeCode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseSeconds(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want int64
	}{
		{"ok/number", `3599`, 3599},
		{"ok/string (v1.0 endpoint)", `"3599"`, 3599},
		{"fail/missing", ``, 0},
		{"fail/negative", `-5`, 0},
		{"fail/float", `1.5`, 0},
		{"fail/huge", `99999999999999`, 0},
		{"fail/garbage", `"soon"`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseSeconds(json.RawMessage(tt.raw)); got != tt.want {
				t.Errorf("parseSeconds(%s) = %d, want %d", tt.raw, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"ok/short", "abc", 5, "abc"},
		{"ok/exact", "abcde", 5, "abcde"},
		{"ok/cut", "abcdef", 5, "abcde"},
		{"ok/not inside a rune", "aé", 2, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truncate(tt.in, tt.n); got != tt.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestCARequestErrorCodeString(t *testing.T) {
	if s := CertificateNotFoundError.String(); s != "CertificateNotFoundError" {
		t.Errorf("String = %q", s)
	}
	if s := CARequestErrorCode(4242).String(); s != "4242" {
		t.Errorf("undefined String = %q", s)
	}
	if CARequestErrorCode(4242).Valid() || !ServiceTooBusyException.Retryable() || ConflictError.Retryable() {
		t.Error("Valid/Retryable wrong")
	}
}

// A token printed by mistake shows no value.
func TestAccessTokenRedacted(t *testing.T) {
	tok := accessToken{value: "eyJ-secret-token"}
	for _, s := range []string{tok.String(), tok.GoString()} {
		if strings.Contains(s, "secret") {
			t.Errorf("printed token %q", s)
		}
	}
}

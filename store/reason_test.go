package store

import (
	"errors"
	"testing"
)

func TestParseReason(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"ok/unspecified", "unspecified", ReasonUnspecified},
		{"ok/keyCompromise", "keyCompromise", ReasonKeyCompromise},
		{"ok/cACompromise", "cACompromise", ReasonCACompromise},
		{"ok/openssl spelling CACompromise", "CACompromise", ReasonCACompromise},
		{"ok/affiliationChanged", "affiliationChanged", ReasonAffiliationChanged},
		{"ok/superseded upper case", "SUPERSEDED", ReasonSuperseded},
		{"ok/cessationOfOperation", "cessationofoperation", ReasonCessationOfOperation},
		{"ok/certificateHold", "certificateHold", ReasonCertificateHold},
		{"ok/removeFromCRL", "removeFromCRL", ReasonRemoveFromCRL},
		{"ok/privilegeWithdrawn", "privilegeWithdrawn", ReasonPrivilegeWithdrawn},
		{"ok/aACompromise", "AACompromise", ReasonAACompromise},
		{"ok/number 0", "0", 0},
		{"ok/number 1", "1", 1},
		{"ok/number 8", "8", 8},
		{"ok/number 10", "10", 10},
		{"ok/number leading zero", "01", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReason(tt.in)
			if err != nil {
				t.Fatalf("ParseReason(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseReason(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}

	bad := []struct {
		name string
		in   string
	}{
		{"fail/empty", ""},
		{"fail/unused 7", "7"},
		{"fail/out of range 11", "11"},
		{"fail/negative", "-1"},
		{"fail/plus sign", "+1"},
		{"fail/space padded", " 1"},
		{"fail/huge number", "99999999999999999999"},
		{"fail/unknown name", "stolen"},
		{"fail/name with space", "key Compromise"},
		{"fail/unknown(7) round trip", ReasonName(7)},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseReason(tt.in)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseReason(%q) error = %v, want ErrInvalid", tt.in, err)
			}
		})
	}
}

func TestReasonName(t *testing.T) {
	tests := []struct {
		name string
		code int
		want string
	}{
		{"ok/0", 0, "unspecified"},
		{"ok/1", 1, "keyCompromise"},
		{"ok/2", 2, "cACompromise"},
		{"ok/3", 3, "affiliationChanged"},
		{"ok/4", 4, "superseded"},
		{"ok/5", 5, "cessationOfOperation"},
		{"ok/6", 6, "certificateHold"},
		{"ok/8", 8, "removeFromCRL"},
		{"ok/9", 9, "privilegeWithdrawn"},
		{"ok/10", 10, "aACompromise"},
		{"fail/7", 7, "unknown(7)"},
		{"fail/11", 11, "unknown(11)"},
		{"fail/-1", -1, "unknown(-1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReasonName(tt.code); got != tt.want {
				t.Fatalf("ReasonName(%d) = %q, want %q", tt.code, got, tt.want)
			}
		})
	}
}

// TestReasonRoundTrip guards against the name table and the constants
// drifting apart.
func TestReasonRoundTrip(t *testing.T) {
	for code := -1; code <= 11; code++ {
		got, err := ParseReason(ReasonName(code))
		if ValidReason(code) {
			if err != nil || got != code {
				t.Errorf("code %d: ParseReason(ReasonName) = %d, %v", code, got, err)
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("code %d: ParseReason(ReasonName) error = %v, want ErrInvalid", code, err)
		}
	}
}

func TestCheckRevokeReason(t *testing.T) {
	tests := []struct {
		name    string
		code    int
		wantErr error
	}{
		{"ok/unspecified", ReasonUnspecified, nil},
		{"ok/keyCompromise", ReasonKeyCompromise, nil},
		{"ok/certificateHold", ReasonCertificateHold, nil},
		{"ok/aACompromise", ReasonAACompromise, nil},
		{"fail/unused 7", 7, ErrInvalid},
		{"fail/removeFromCRL", ReasonRemoveFromCRL, ErrInvalid},
		{"fail/negative", -1, ErrInvalid},
		{"fail/11", 11, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRevokeReason(tt.code)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("CheckRevokeReason(%d) = %v, want nil", tt.code, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("CheckRevokeReason(%d) = %v, want %v", tt.code, err, tt.wantErr)
			}
		})
	}
}

func TestReasonReplaces(t *testing.T) {
	for _, tc := range []struct {
		name      string
		old, next int
		want      bool
	}{
		{"ok/keyCompromise replaces superseded", ReasonSuperseded, ReasonKeyCompromise, true},
		{"ok/a permanent reason replaces a hold", ReasonCertificateHold, ReasonCessationOfOperation, true},
		{"ok/keyCompromise replaces a hold", ReasonCertificateHold, ReasonKeyCompromise, true},
		{"fail/same reason", ReasonCertificateHold, ReasonCertificateHold, false},
		{"fail/hold does not replace a permanent reason", ReasonCessationOfOperation, ReasonCertificateHold, false},
		{"fail/nothing replaces keyCompromise", ReasonKeyCompromise, ReasonCessationOfOperation, false},
		{"fail/superseded stays", ReasonSuperseded, ReasonCessationOfOperation, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ReasonReplaces(tc.old, tc.next); got != tc.want {
				t.Fatalf("ReasonReplaces(%d, %d) = %v, want %v", tc.old, tc.next, got, tc.want)
			}
		})
	}
}

//go:build integration

package integration

import (
	"strings"
	"sync"
	"testing"
)

// Every secret a test hands certgate (challenges, passwords, client
// secrets, tokens, one-time challenges, DSNs) is registered here, and
// every server's log is checked against all of them when the server ends:
// no log line of the whole suite may contain one.
var knownSecrets struct {
	mu  sync.Mutex
	set map[string]bool
}

// secret registers s and returns it.
func secret(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 6 { // too short to tell apart from ordinary text
		return s
	}
	knownSecrets.mu.Lock()
	defer knownSecrets.mu.Unlock()
	if knownSecrets.set == nil {
		knownSecrets.set = map[string]bool{}
	}
	knownSecrets.set[s] = true
	return s
}

// checkLogForSecrets fails t when log holds a registered secret; it names
// the secret's first characters only.
func checkLogForSecrets(t *testing.T, log string) {
	t.Helper()
	for _, s := range leakedSecrets(log) {
		t.Errorf("a server log holds a secret the test gave it (%.4s…)", s)
	}
}

// leakedSecrets returns the registered secrets log contains.
func leakedSecrets(log string) []string {
	knownSecrets.mu.Lock()
	defer knownSecrets.mu.Unlock()
	var out []string
	for s := range knownSecrets.set {
		if strings.Contains(log, s) {
			out = append(out, s)
		}
	}
	return out
}

// The check itself: a registered secret in a log is found, others not.
func TestLeakedSecrets(t *testing.T) {
	planted := secret("planted-secret-7f3a9c")
	if got := leakedSecrets(`{"message":"enrollment","challenge":"` + planted + `"}`); len(got) != 1 || got[0] != planted {
		t.Fatalf("leakedSecrets = %q, want the planted secret", got)
	}
	if got := leakedSecrets(`{"message":"enrollment","outcome":"issued"}`); len(got) != 0 {
		t.Fatalf("leakedSecrets = %q on a clean log", got)
	}
	if secret("short") != "short" || len(leakedSecrets("short")) != 0 {
		t.Fatal("a value too short to be told apart was registered")
	}
}

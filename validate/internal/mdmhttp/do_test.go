package mdmhttp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			_, _ = w.Write([]byte(strings.Repeat("x", 11)))
		case "/missing":
			http.Error(w, "gone", http.StatusNotFound)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantBody   string
		wantErr    string
	}{
		{"ok/answer read whole", "/", http.StatusOK, "ok", ""},
		{"ok/an error status is an answer", "/missing", http.StatusNotFound, "gone\n", ""},
		{"fail/answer over the bound", "/big", 0, "", "response larger than 10 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			sem := make(chan struct{}, 1)
			status, body, err := Do(srv.Client(), sem, req, 10)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil || status != tt.wantStatus || string(body) != tt.wantBody {
				t.Fatalf("Do = %d %q %v, want %d %q", status, body, err, tt.wantStatus, tt.wantBody)
			}
			if len(sem) != 0 {
				t.Fatal("the slot was not given back")
			}
		})
	}
}

// TestDoCap: with a cap of 2, of 6 concurrent calls never more than 2 are
// at the server, and a call whose context ends while it waits for a slot
// fails without sending.
func TestDoCap(t *testing.T) {
	var inFlight, peak, seen atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		inFlight.Add(-1)
	}))
	defer srv.Close()
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			if _, _, err := Do(srv.Client(), sem, req, 10); err != nil {
				t.Error(err)
			}
		}()
	}
	for len(sem) < 2 || seen.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if _, _, err := Do(srv.Client(), sem, req, 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting call: err = %v, want the context's deadline", err)
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Errorf("at most %d calls at the server, want 2", p)
	}
	if n := seen.Load(); n != 6 {
		t.Errorf("server saw %d calls, want 6 (the cancelled one never sent)", n)
	}
}

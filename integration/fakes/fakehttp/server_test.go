package fakehttp_test

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
)

func newServer(t *testing.T) *fakehttp.Server {
	t.Helper()
	s := fakehttp.New()
	s.Handle("POST /echo", "echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	})
	s.Start()
	t.Cleanup(s.Close)
	return s
}

type answer struct {
	status int
	body   string
	err    bool
}

func post(t *testing.T, s *fakehttp.Server, ctype, body string, timeout time.Duration) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/echo", strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	resp, err := s.Client().Do(req)
	if err != nil {
		return answer{err: true}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(b)}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults []fakehttp.Fault
		want   []answer // one per request, in order
	}{
		{"ok/no fault", nil, []answer{{200, "x", false}}},
		{"ok/status forever", []fakehttp.Fault{{Status: 500, Body: "{}"}},
			[]answer{{500, "{}", false}, {500, "{}", false}}},
		{"ok/fail twice then succeed", []fakehttp.Fault{{Times: 2, Status: 503, Body: "<html/>"}},
			[]answer{{503, "<html/>", false}, {503, "<html/>", false}, {200, "x", false}}},
		{"ok/queued faults", []fakehttp.Fault{{Times: 1, Status: 500}, {Times: 1, Reset: true}},
			[]answer{{500, "", false}, {err: true}, {200, "x", false}}},
		{"ok/reset", []fakehttp.Fault{{Reset: true}}, []answer{{err: true}}},
		{"ok/hang", []fakehttp.Fault{{Hang: true}}, []answer{{err: true}}},
		{"ok/delay then answer", []fakehttp.Fault{{Delay: time.Millisecond}}, []answer{{200, "x", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t)
			for _, f := range tt.faults {
				s.AddFault("echo", f)
			}
			for i, want := range tt.want {
				got := post(t, s, "text/plain", "x", 500*time.Millisecond)
				if got != want {
					t.Errorf("request %d = %+v, want %+v", i, got, want)
				}
			}
			if n := s.Count("echo"); n != len(tt.want) {
				t.Errorf("recorded %d requests, want %d", n, len(tt.want))
			}
		})
	}
}

func TestRecording(t *testing.T) {
	s := newServer(t)
	post(t, s, "application/x-www-form-urlencoded", "a=1&b=two", time.Second)
	post(t, s, "application/json", `{"k":[1,"v"]}`, time.Second)
	s.SetFault("echo", fakehttp.Fault{Status: 418})
	post(t, s, "text/plain", "raw", time.Second)
	rs := s.Requests()
	if len(rs) != 3 {
		t.Fatalf("recorded %d", len(rs))
	}
	if rs[0].Form.Get("b") != "two" || rs[0].JSON != nil {
		t.Errorf("form request recorded as %+v", rs[0])
	}
	if m, ok := rs[1].JSON.(map[string]any); !ok || m["k"] == nil || rs[1].Form != nil {
		t.Errorf("JSON request recorded as %+v", rs[1])
	}
	if string(rs[2].Body) != "raw" || !rs[2].Faulted || rs[1].Faulted {
		t.Errorf("faulted flags / body wrong: %+v", rs)
	}
	if rs[0].Method != http.MethodPost || rs[0].Path != "/echo" || rs[0].Header.Get("Content-Type") == "" {
		t.Errorf("request line or headers not recorded: %+v", rs[0])
	}
	s.ClearFaults()
	if got := post(t, s, "text/plain", "y", time.Second); got.status != 200 {
		t.Errorf("after ClearFaults: %+v", got)
	}
	s.ResetRequests()
	if n := len(s.Requests()); n != 0 {
		t.Errorf("after ResetRequests: %d", n)
	}
}

// Unrouted paths are recorded and answered 404.
func TestUnrouted(t *testing.T) {
	s := newServer(t)
	resp, err := s.Client().Get(s.URL() + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || len(s.RequestsFor("")) != 1 {
		t.Errorf("status %d, unrouted recorded %d", resp.StatusCode, len(s.RequestsFor("")))
	}
}

// A held request is released by closing Wait, and Close releases the
// rest.
func TestWait(t *testing.T) {
	s := newServer(t)
	release := make(chan struct{})
	s.SetFault("echo", fakehttp.Fault{Times: 1, Wait: release})
	done := make(chan answer)
	go func() { done <- post(t, s, "text/plain", "held", 5*time.Second) }()
	for s.Count("echo") == 0 {
		runtime.Gosched()
	}
	close(release)
	if got := <-done; got.status != 200 || got.body != "held" {
		t.Errorf("released request = %+v", got)
	}
}

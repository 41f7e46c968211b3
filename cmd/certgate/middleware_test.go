package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

var requestIDRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestWithRequestContext(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantLog    []string
	}{
		{
			name: "ok/request id and logger in context",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if _, ok := r.Context().Deadline(); !ok {
					http.Error(w, "no deadline", http.StatusTeapot)
					return
				}
				zerolog.Ctx(r.Context()).Info().Msg("inside handler")
			},
			wantStatus: http.StatusOK,
			wantLog:    []string{`"message":"inside handler"`, `"request_id":"`},
		},
		{
			name:       "fail/panic becomes 500",
			handler:    func(http.ResponseWriter, *http.Request) { panic("boom") },
			wantStatus: http.StatusInternalServerError,
			wantLog:    []string{`"panic":"boom"`, `"level":"error"`, `"status":500`},
		},
		{
			name:       "fail/client error logged at info",
			handler:    func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusBadRequest) },
			wantStatus: http.StatusBadRequest,
			wantLog:    []string{`"level":"info"`, `"status":400`, `"message":"http request"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := withRequestContext(zerolog.New(&logs), time.Minute, tt.handler)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/scep?operation=PKIOperation&message=c2VjcmV0", nil))
			if rec.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			id := rec.Header().Get("X-Request-Id")
			if !requestIDRE.MatchString(id) {
				t.Errorf("X-Request-Id = %q, want 16 hex characters", id)
			}
			out := logs.String()
			for _, want := range append(tt.wantLog, `"request_id":"`+id+`"`) {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %s: %s", want, out)
				}
			}
			// A GET PKIOperation carries the whole message in the query.
			if strings.Contains(out, "c2VjcmV0") {
				t.Errorf("log holds the query: %s", out)
			}
		})
	}
}

// http.ErrAbortHandler is net/http's way to abort a response; the
// middleware must pass it on, not turn it into a 500.
func TestWithRequestContextRepanicsAbort(t *testing.T) {
	h := withRequestContext(zerolog.Nop(), time.Minute, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler)
	}))
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	t.Error("ServeHTTP returned normally")
}

func TestHTTPMetricsLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	hm := newHTTPMetrics(reg)
	h := hm.wrap("scep", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusUnsupportedMediaType)
		}
	}))
	for _, m := range []string{http.MethodGet, http.MethodPost, "BREW", "PROPFIND"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(m, "/scep", nil))
	}
	const want = `
# HELP certgate_http_requests_total HTTP requests by route, method and status code.
# TYPE certgate_http_requests_total counter
certgate_http_requests_total{code="200",method="GET",route="scep"} 1
certgate_http_requests_total{code="200",method="other",route="scep"} 2
certgate_http_requests_total{code="415",method="POST",route="scep"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "certgate_http_requests_total"); err != nil {
		t.Error(err)
	}
}

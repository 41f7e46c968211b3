package intune_test

import (
	"context"
	"strings"
	"testing"

	"github.com/certgate/certgate/integration/fakes/fakehttp"
	fakeintune "github.com/certgate/certgate/integration/fakes/intune"
	"github.com/certgate/certgate/validate/intune"
)

func TestRevocationRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	e.cloud.Intune.QueueRevocations(
		fakeintune.RevocationRequest{RequestContext: "ctx-1", SerialNumber: "0A1B2C", IssuerName: "contoso-ca"},
		fakeintune.RevocationRequest{RequestContext: "ctx-2", SerialNumber: "1234567890", CAConfiguration: "ca01\\Contoso"},
		fakeintune.RevocationRequest{RequestContext: "ctx-3", SerialNumber: "FF"},
	)
	ctx := context.Background()
	got, err := e.v.DownloadRevocationRequests(ctx, 2)
	if err != nil {
		t.Fatalf("Download: %v", err)
	}
	want := []intune.RevocationRequest{
		{RequestContext: "ctx-1", SerialNumber: "0A1B2C", IssuerName: "contoso-ca"},
		{RequestContext: "ctx-2", SerialNumber: "1234567890", CAConfiguration: "ca01\\Contoso"},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Download = %+v, want %+v", got, want)
	}
	dl := e.cloud.Intune.RequestsFor(fakeintune.RouteDownload)[0]
	if v := dl.Header.Get("api-version"); v != "5019-05-05" {
		t.Errorf("api-version = %q, want 5019-05-05", v)
	}
	if b := string(dl.Body); b != `{"downloadParameters":{"issuerName":null,"maxRequests":2}}` {
		t.Errorf("download body = %s", b)
	}

	err = e.v.UploadRevocationResults(ctx, []intune.RevocationResult{
		{RequestContext: "ctx-1", Succeeded: true, ErrorCode: intune.None},
		{RequestContext: "ctx-2", ErrorCode: intune.CertificateNotFoundError, ErrorMessage: "no such serial"},
	})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	res := e.cloud.Intune.RevocationResults()
	if len(res) != 2 || res[0].ErrorCode != "None" || !res[0].Succeeded || res[0].ErrorMessage != nil ||
		res[1].ErrorCode != "CertificateNotFoundError" || res[1].Code != 4004 || res[1].Succeeded ||
		res[1].ErrorMessage == nil || *res[1].ErrorMessage != "no such serial" {
		t.Errorf("uploaded results = %+v", res)
	}
	rest, err := e.v.DownloadRevocationRequests(ctx, 500)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 1 || rest[0].RequestContext != "ctx-3" {
		t.Errorf("second download = %+v, want only ctx-3", rest)
	}
}

func TestRevocationIssuerFilter(t *testing.T) {
	e := newEnv(t, func(c *intune.Config) { c.RevocationIssuerName = "contoso-ca" })
	e.cloud.Intune.QueueRevocations(
		fakeintune.RevocationRequest{RequestContext: "other", SerialNumber: "01", IssuerName: "fabrikam-ca"},
		fakeintune.RevocationRequest{RequestContext: "ours", SerialNumber: "02", IssuerName: "contoso-ca"},
	)
	got, err := e.v.DownloadRevocationRequests(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].RequestContext != "ours" {
		t.Errorf("Download = %+v, want only contoso-ca's", got)
	}
}

func TestRevocationDownloadErrors(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		fault *fakehttp.Fault
		want  string
	}{
		{"fail/max 0", 0, nil, "intune: downloadRevocationRequests: max 0 is outside 1..500"},
		{"fail/max 501", 501, nil, "intune: downloadRevocationRequests: max 501 is outside 1..500"},
		{"fail/500", 10, &fakehttp.Fault{Status: 500, Body: `{"error":{"code":"InternalError"}}`}, "HTTP 500: InternalError"},
		{"fail/HTML", 10, &fakehttp.Fault{Status: 200, Body: "<html/>"}, "response is not a revocation request list"},
		{"fail/no value", 10, &fakehttp.Fault{Status: 200, Body: `{}`}, "response is not a revocation request list"},
		{"fail/too many", 1, &fakehttp.Fault{Status: 200, Body: `{"value":[{"requestContext":"a","serialNumber":"1"},{"requestContext":"b","serialNumber":"2"}]}`}, "2 requests returned for a maximum of 1"},
		{"fail/missing serial", 10, &fakehttp.Fault{Status: 200, Body: `{"value":[{"requestContext":"a","serialNumber":null}]}`}, "request 0 lacks requestContext or serialNumber"},
		{"fail/reset", 10, &fakehttp.Fault{Reset: true}, "intune: downloadRevocationRequests: Post"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tt.fault != nil {
				e.cloud.Intune.SetFault(fakeintune.RouteDownload, *tt.fault)
			}
			got, err := e.v.DownloadRevocationRequests(context.Background(), tt.max)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Download = %+v, %v; want an error containing %q", got, err, tt.want)
			}
			if tt.fault == nil && len(e.cloud.Intune.Requests()) != 0 {
				t.Errorf("a call was made for an invalid max")
			}
			e.assertNoSecret(t, err)
		})
	}
}

func TestRevocationUploadErrors(t *testing.T) {
	ok := []intune.RevocationResult{{RequestContext: "c", Succeeded: true, ErrorCode: intune.None}}
	tests := []struct {
		name    string
		results []intune.RevocationResult
		fault   *fakehttp.Fault
		want    string
	}{
		{"fail/succeeded with an error code", []intune.RevocationResult{{RequestContext: "c", Succeeded: true, ErrorCode: intune.ConflictError}}, nil,
			"intune: uploadRevocationResults: result 0: succeeded must be true exactly when errorCode is None"},
		{"fail/failed with None", []intune.RevocationResult{{RequestContext: "c", ErrorCode: intune.None}}, nil,
			"succeeded must be true exactly when errorCode is None"},
		{"fail/undefined code", []intune.RevocationResult{{RequestContext: "c", ErrorCode: 4999}}, nil,
			"result 0 has undefined errorCode 4999"},
		{"fail/no context", []intune.RevocationResult{{Succeeded: true}}, nil, "result 0 has no requestContext"},
		{"fail/value false", ok, &fakehttp.Fault{Status: 200, Body: `{"value":false}`}, "Intune answered false"},
		{"fail/value missing", ok, &fakehttp.Fault{Status: 200, Body: `{}`}, "response has no value"},
		{"fail/value not boolean", ok, &fakehttp.Fault{Status: 200, Body: `{"value":"true"}`}, "value is not a boolean"},
		{"fail/HTML", ok, &fakehttp.Fault{Status: 200, Body: "<html/>"}, "response is not JSON"},
		{"fail/503", ok, &fakehttp.Fault{Status: 503, Body: "{}"}, "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tt.fault != nil {
				e.cloud.Intune.SetFault(fakeintune.RouteUpload, *tt.fault)
			}
			err := e.v.UploadRevocationResults(context.Background(), tt.results)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Upload = %v, want an error containing %q", err, tt.want)
			}
			if tt.fault == nil && len(e.cloud.Intune.Requests()) != 0 {
				t.Errorf("a call was made for invalid results")
			}
		})
	}
}

// Every defined code, retryable or not, reaches the fake by name.
func TestRevocationUploadEveryCode(t *testing.T) {
	e := newEnv(t, nil)
	var results []intune.RevocationResult
	for name, num := range fakeintune.CARequestErrorCodes {
		code := intune.CARequestErrorCode(num)
		if code.String() != name {
			t.Errorf("CARequestErrorCode(%d).String() = %q, want %q", num, code, name)
		}
		if want := num >= 4100; code.Retryable() != want {
			t.Errorf("%s.Retryable() = %v", name, code.Retryable())
		}
		results = append(results, intune.RevocationResult{RequestContext: name, Succeeded: code == intune.None, ErrorCode: code})
	}
	if err := e.v.UploadRevocationResults(context.Background(), results); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.cloud.Intune.RevocationResults() {
		if r.ErrorCode != r.RequestContext || r.Code != fakeintune.CARequestErrorCodes[r.RequestContext] {
			t.Errorf("uploaded %+v", r)
		}
	}
	if n := len(e.cloud.Intune.RevocationResults()); n != len(fakeintune.CARequestErrorCodes) {
		t.Errorf("%d results uploaded, want %d", n, len(fakeintune.CARequestErrorCodes))
	}
}

package intune

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certgate/certgate/validate"
)

// EUnexpected is the HRESULT E_UNEXPECTED (0x8000FFFF), the reference
// example's failure code and Notify's default.
const EUnexpected int64 = 0x8000FFFF

// maxDescription is errorDescription's documented limit.
const maxDescription = 255

// expirationLayout is "web UTC time (YYYY-MM-DDThh:mm:ss.sssTZD) ISO
// 8601" as Microsoft's API doc puts it.
const expirationLayout = "2006-01-02T15:04:05.000Z"

// NotifySuccess reports an issued certificate with successNotification
// (INTEGRATIONS.md §3.3). Microsoft requires it to succeed before the
// certificate is handed out: a non-nil error means do not deliver it.
//
// Formats Microsoft leaves unconfirmed are certgate's choice: the
// thumbprint is upper-case hex SHA-1 of the DER, the serial number
// upper-case hex (both as Windows shows them), the issuer its RFC 4514
// string.
func (v *Validator) NotifySuccess(ctx context.Context, r *validate.Request, cert *x509.Certificate) (err error) {
	start := time.Now()
	defer func() { v.metrics.observe(opSuccess, okResult(err), start) }()
	raw, _, rej := requestCSR(r)
	switch {
	case rej != nil:
		return fmt.Errorf("intune: successNotification: %s", strings.TrimPrefix(rej.Reason, "intune: "))
	case r.TransactionID == "":
		return errors.New("intune: successNotification: request has no SCEP transaction ID")
	case cert == nil || cert.SerialNumber == nil || len(cert.Raw) == 0:
		return errors.New("intune: successNotification: no certificate")
	}
	issuer := cert.Issuer.String()
	if issuer == "" {
		return errors.New("intune: successNotification: certificate has an empty issuer")
	}
	thumb := sha1.Sum(cert.Raw)
	serial := strings.ToUpper(cert.SerialNumber.Text(16))
	if len(serial)%2 == 1 {
		serial = "0" + serial
	}
	body := map[string]any{"notification": map[string]any{
		"transactionId":                r.TransactionID,
		"certificateRequest":           base64.StdEncoding.EncodeToString(raw),
		"certificateThumbprint":        strings.ToUpper(hex.EncodeToString(thumb[:])),
		"certificateSerialNumber":      serial,
		"certificateExpirationDateUtc": cert.NotAfter.UTC().Format(expirationLayout),
		"issuingCertificateAuthority":  issuer,
		"callerInfo":                   v.cfg.CallerInfo,
	}}
	return v.notify(ctx, "successNotification", body)
}

// NotifyFailure reports, with failureNotification, that issuance failed
// after Intune had validated the request. hResult is a 32-bit HRESULT
// (MS-ERREF), e.g. EUnexpected; description is cut to 255 characters.
// Microsoft says not to call it when Validate itself rejected or failed.
func (v *Validator) NotifyFailure(ctx context.Context, r *validate.Request, hResult int64, description string) (err error) {
	start := time.Now()
	defer func() { v.metrics.observe(opFailure, okResult(err), start) }()
	raw, _, rej := requestCSR(r)
	switch {
	case rej != nil:
		return fmt.Errorf("intune: failureNotification: %s", strings.TrimPrefix(rej.Reason, "intune: "))
	case r.TransactionID == "":
		return errors.New("intune: failureNotification: request has no SCEP transaction ID")
	case hResult < -1<<31 || hResult > 1<<32-1:
		return fmt.Errorf("intune: failureNotification: hResult %d is not a 32-bit HRESULT", hResult)
	}
	description = truncate(strings.TrimSpace(strings.ToValidUTF8(description, "?")), maxDescription)
	if description == "" {
		description = "certificate issuance failed"
	}
	body := map[string]any{"notification": map[string]any{
		"transactionId":      r.TransactionID,
		"certificateRequest": base64.StdEncoding.EncodeToString(raw),
		"hResult":            hResult,
		"errorDescription":   description,
		"callerInfo":         v.cfg.CallerInfo,
	}}
	return v.notify(ctx, "failureNotification", body)
}

// Notify reports the outcome of an issuance Validate allowed: success
// with cert when issueErr is nil, else a failure with E_UNEXPECTED. The
// error's text is not sent to Intune (it may hold internal detail);
// callers wanting a specific HRESULT or text use NotifyFailure.
func (v *Validator) Notify(ctx context.Context, r *validate.Request, cert *x509.Certificate, issueErr error) error {
	if issueErr == nil {
		return v.NotifySuccess(ctx, r, cert)
	}
	return v.NotifyFailure(ctx, r, EUnexpected, "certificate issuance failed at the certificate authority")
}

// notify posts a notification and requires a 2xx answer with code
// Success.
func (v *Validator) notify(ctx context.Context, op string, body any) error {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.Timeout)
	defer cancel()
	resp, err := v.post(ctx, op, scepService, scepAPIVersion, "ScepActions/"+op, body)
	if err != nil {
		return err
	}
	code, parsed := parseResult(resp.body)
	switch {
	case resp.ok() && parsed && code == CodeSuccess:
		return nil
	case parsed:
		return resp.errorf(op, "HTTP %d, code %s", resp.status, safeCode(code))
	}
	return resp.errorf(op, "HTTP %d with a body that is not a result", resp.status)
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func okResult(err error) string {
	if err != nil {
		return resultError
	}
	return resultOK
}

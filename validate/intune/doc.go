// Package intune validates SCEP enrollments with Microsoft Intune and
// reports their outcome back to it, as a third-party CA must (Microsoft's
// "SCEP libraries and APIs"; INTEGRATIONS.md §1–4 and §6.1).
//
// # Calls
//
// A Validator gets app-only tokens from Entra ID (client credentials, with
// a client secret or a certificate-signed client assertion), finds the
// tenant's Intune service URLs through Microsoft Graph service discovery,
// and then posts to ScepRequestValidationFEService (validateRequest,
// successNotification, failureNotification) and PkiConnectorFEService
// (downloadRevocationRequests, uploadRevocationResults).
//
// Tokens are cached per scope until shortly before they expire and
// refreshed by one request however many callers need them at once; a
// token whose refresh fails is still used until it actually expires. The
// discovered service map is cached with no expiry, as the reference
// library does, and dropped when an Intune host fails (transport error,
// timeout, 404 or 5xx), so the next call discovers again.
//
// # Policy: fail closed
//
// Microsoft: "if this method throws an exception, the SCEP server must not
// issue a certificate". Validate therefore allows a request only on a
// 2xx answer whose code is "Success". Any other code is a
// *validate.Rejection naming the code (an unknown code too: fail closed).
// Because Intune's HTTP status for rejections is unconfirmed, a 4xx
// answer carrying a known rejection code is a Rejection as well. Every
// other failure (token, discovery, 401/403, 5xx, timeout, reset, a body
// that is not the expected JSON, even a non-2xx saying "Success") is a
// plain error: the validator could not decide, and the enrollment is
// refused.
//
// Nothing is retried: a failed validateRequest or notification is
// reported to the caller at once, and the device retries the enrollment.
// Each call is bounded by Config.Timeout (30 s by default).
//
// # Secrets
//
// The client secret, the assertion key and the tokens never appear in
// an error, a metric or a String of a value of this package. Errors name
// the operation, the HTTP status, the error code the service gave and
// the client-request-id, which Microsoft support can trace.
package intune

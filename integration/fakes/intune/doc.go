// Package intune is a fake of the two Intune services a third-party SCEP
// CA talks to (INTEGRATIONS.md §3, §4, §8.3): ScepRequestValidationFEService
// (validateRequest, successNotification, failureNotification) and
// PkiConnectorFEService (downloadRevocationRequests,
// uploadRevocationResults). Point the Graph fake's discovery list at it
// with graph.StandardEndpoints(fake.URL()).
//
// Every call must carry an Intune-audience bearer token (401 otherwise),
// an api-version header (2018-02-20 for SCEP, 5019-05-05 for PKI; 400 when
// missing or wrong, including when sent only as a query parameter), a
// UUID client-request-id (400) and a JSON content type (415). The
// UserAgent header is recorded but only required after RequireUserAgent,
// because only the Java reference library sends it.
//
// Outcomes are decided by challenges the test registers with
// AllowChallenge, compared with the CSR the way Intune's documented checks
// suggest (subject, SANs, key usage, key size, EKUs, expiry, targeting);
// a challenge can also force any result code, known or not. Non-Success
// answers use HTTP 200 like the reference library's own test doubles,
// or another status after SetRejectStatus, since the real choice is
// unconfirmed. Transport faults come from fakehttp.
package intune

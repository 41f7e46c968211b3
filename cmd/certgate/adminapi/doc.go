// Package adminapi is certgate's admin REST API, /api/v1/: certificate
// inventory (search, cursor pagination, CSV export), revocation (one, or
// in bulk by filter with a dry run), approvals of held requests, one-time
// challenges, API tokens, test certificates and statistics.
//
// Every request runs as a Principal with a role: viewer (read, search,
// export), operator (revoke, approve, challenges) or admin (tokens, test
// certificates). On the TLS listener the principal comes from an admin
// client certificate (subject O "certgate admin", OU the role, issued by
// certgate's CA and not revoked) or a bearer token (stored as a SHA-256
// hash); on the admin unix socket, whose file mode is its access control,
// every caller is admin. Errors are JSON {"error": "..."} with 400, 401,
// 403, 404, 409 or 5xx.
//
// openapi.yaml documents every route; a test keeps it and Routes in step.
package adminapi

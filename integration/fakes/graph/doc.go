// Package graph is a fake of the Microsoft Graph service-discovery call
// that finds a tenant's Intune service URLs (INTEGRATIONS.md §2, §8.2):
//
//	GET /v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints
//
// It requires a bearer token whose audience is Graph (checked with the
// TokenChecker, normally the Entra fake), echoes client-request-id and adds
// request-id on every answer, and answers errors with the Graph error body
// {"error":{"code","message","innerError":{...}}}.
//
// Test knobs: SetEndpoints (including a list without the SCEP entry, or
// entries in the legacy serviceName shape), QueueEndpoints (a list that
// changes between calls), and the fakehttp faults, with ready-made
// InsufficientPrivileges and Throttled faults.
package graph

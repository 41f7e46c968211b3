// Package graph is a fake of the Microsoft Graph calls certgate makes
// (INTEGRATIONS.md §2, §5.4, §8.2): service discovery, which finds a
// tenant's Intune service URLs,
//
//	GET /v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints
//
// and the device-state lookups,
//
//	GET /v1.0/deviceManagement/managedDevices/{id}   (404 when deleted)
//	GET /v1.0/devices?$filter=deviceId eq '{id}'      (empty value when deleted)
//
// It requires a bearer token whose audience is Graph (checked with the
// TokenChecker, normally the Entra fake), echoes client-request-id and adds
// request-id on every answer, and answers errors with the Graph error body
// {"error":{"code","message","innerError":{...}}}.
//
// Test knobs: SetEndpoints (including a list without the SCEP entry, or
// entries in the legacy serviceName shape), QueueEndpoints (a list that
// changes between calls); PutManagedDevice, DeleteManagedDevice,
// SetManagementState, SetComplianceState, WrapManagedDevice (the entity
// inside "value", the unconfirmed variant), PutEntraDevice,
// DeleteEntraDevice, SetAccountEnabled; and the fakehttp faults per route
// (RouteEndpoints, RouteManagedDevice, RouteDevices), with ready-made
// InsufficientPrivileges and Throttled faults.
package graph

// Package workspaceone is a fake of the Workspace ONE UEM device lookup
// that certgate's device check calls (INTEGRATIONS.md §10), built on
// fakehttp, with the recording and per-route faults of §8.
//
// # Route
//
// GET /api/mdm/devices?searchby=Serialnumber&id={serial} (or
// searchby=Udid) answers the one matching device as a JSON object. The
// path is also served as /API/mdm/devices, since the console shows the
// REST API URL as https://host/API/ and the servers are IIS, which
// ignores path case; the parameter names (searchby, searchBy) and the
// search type are matched without regard to case, and so is the value,
// as a SQL Server lookup would. Other search types, and a missing id,
// get 400.
//
// # Auth (partly a guess)
//
// A request must carry HTTP Basic credentials of an admin added with
// AddAdmin, and the tenant API key in the aw-tenant-code header (§10).
// Which status a real server gives each failure is unconfirmed; the fake
// answers:
//
//   - missing or wrong Basic credentials: 401 with WWW-Authenticate;
//   - a missing or wrong aw-tenant-code: 403 by default, 401 after
//     SetTenantCodeStatus(401), the other plausible variant;
//   - an admin whose role lacks "REST - Devices" (SetAdminRole): 403.
//
// Error bodies have the shape {"errorCode","message","activityId"} seen
// in Workspace ONE's API answers (unconfirmed, as is everything about
// them but the status).
//
// The fake answers JSON only to Accept: application/json (optionally
// with parameters such as version=1). Without it, it answers XML, as the
// real API does by default, so a client that forgets the header sees a
// body it cannot read rather than a fake that hides the mistake.
//
// # Records and field names
//
// Tests add and remove devices (SerialNumber, Udid, ComplianceStatus,
// EnrollmentStatus) and change their state. The JSON names of those four
// fields are unconfirmed (§10): the fake serves the commonly documented
// ones (DocumentedFields) unless SetFields picks others, e.g.
// AlternativeFields or any test's own; a dotted name nests the value,
// and an empty one leaves the field out.
//
// # Unknown devices
//
// A device the fake does not know (or no longer knows) gets 404 with an
// error body by default; SetNotFoundMode switches to the other answers a
// real server might give: 204 No Content, or 200 with an empty search
// envelope {"Devices":[],"Page":0,"PageSize":500,"Total":0}.
//
// # Concurrency
//
// The fake counts requests in flight and keeps the maximum
// (MaxInFlight); Hold makes device lookups wait for each other, so a
// test sees a client's concurrency reach its limit without timing.
//
// Nothing here is build-tagged: any test in the module may import it.
package workspaceone

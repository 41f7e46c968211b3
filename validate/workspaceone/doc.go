// Package workspaceone checks enrolling devices against VMware
// Workspace ONE UEM (INTEGRATIONS.md §10), the way NAC and ZTNA products
// decide whether to trust a device.
//
// # The lookup
//
// A Checker asks GET {api}/api/mdm/devices?searchby=Serialnumber&id=
// {key} (or searchby=Udid) with HTTP Basic credentials of an admin whose
// role grants "REST - Devices", the tenant's API key in aw-tenant-code,
// and Accept: application/json (without it the API answers XML). It
// checks that the record is the device asked for, then reads its
// compliance and enrollment status into a State whose Status is one of
// NotFound, NotEnrolled, NonCompliant, NotAssessed and Compliant.
//
// Only "Non-Compliant" makes a device untrusted by default; Compliant,
// Pending Compliance Check, Not Available, Unknown and null do not
// (§10). Status values are compared ignoring case, spaces, "-" and "_",
// because whether the API spells them as the console shows them
// ("Non-Compliant") or as identifiers ("NonCompliant") is unconfirmed;
// a boolean is read as compliant or not. With RequireEnrolled, a device
// whose enrollment status is not Enrolled is refused as well.
//
// # Unconfirmed details, read liberally
//
// The JSON names of the fields are unconfirmed (§10), so they are
// configurable (SerialField, UdidField, ComplianceField,
// EnrollmentField; dotted paths allowed) and matched exactly first, else
// without regard to case. The answer for an unknown device is
// unconfirmed too: 204, 404 with an empty or JSON body, and 200 with an
// empty body, null, {}, [] or an empty {"Devices":[]} envelope all mean
// "not found". A list of devices instead of one record is accepted when
// exactly one entry is the device.
//
// Leniency stops where it could hide a fault. A 404 whose body is an
// HTML page (a proxy, a wrong apiURL) is an error, not "not found",
// since a device-state check may one day revoke certificates of devices
// that are not found (§11). A record without the looked-up identifier
// or the compliance field, or one naming another device, is an error:
// the field names are probably wrong, and reading a missing compliance
// field as "not assessed" would silently let every device through.
//
// # Policy: fail closed
//
// Validator runs the challenge validator it wraps, reads the device key
// from the CSR (Config.DeviceKey: the CN by default, another subject
// attribute, or a URI SAN), and checks the device. A CSR without a
// usable key, and a device that is not found, not enrolled (when
// required) or non-compliant, is a *validate.Rejection. Everything that
// prevents an answer (401/403, 429, 5xx, an HTML or XML body, JSON that
// is not a device record, a timeout, a reset) is a plain error: the
// validator could not decide, and the enrollment is refused. Nothing is
// retried; the device retries the enrollment. The fail-open and
// last-known-state modes of §10 belong to the device-state checks of
// §11, not to enrollment.
//
// An accepted request's Decision.DeviceID is "ws1:<lookup>:<key>"
// (DeviceID, ParseDeviceID), e.g. "ws1:serial:C02XYZ".
//
// # Limits and metrics
//
// Each lookup is bounded by Config.Timeout (30 s by default), waiting
// for a slot included. At most Config.MaxConcurrency lookups (5 by
// default) are in flight per Checker, and the transport opens at most as
// many connections. With a Registerer, certgate_workspaceone_requests_total
// {result} counts lookups by Status (or error) and
// certgate_workspaceone_request_duration_seconds times them.
//
// # Secrets
//
// The password, the tenant code and the Basic header never appear in an
// error, a Rejection, a metric or a String of a value of this package.
// Errors name the lookup, the HTTP status, the API's errorCode and
// activityId (which support can trace), and never text from the answer.
package workspaceone

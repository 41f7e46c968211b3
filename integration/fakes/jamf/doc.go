// Package jamf is a fake of the parts of Jamf Pro that certgate talks to
// (INTEGRATIONS.md §7 and §8.4), built on fakehttp.
//
// # Auth
//
// POST /api/oauth/token and POST /api/v1/oauth/token both issue API-client
// tokens (client credentials, form-encoded), because which path real
// servers serve is unconfirmed (§9.9); a test removes one with a 404
// fault. POST /api/v1/auth/token issues a user token for HTTP Basic
// credentials, as {"token","expires"} by default or in the OAuth shape
// (SetUserTokenOAuthShape), the field names being unconfirmed as well.
// Tokens are opaque, expire by the fake's clock after the configured
// lifetime (default 599 s, Jamf's usual expires_in), and an expired,
// revoked or unknown token gets 401 on every API route.
//
// # Inventory
//
// GET /api/v1/computers-inventory and GET /api/v2/mobile-devices/detail
// serve {"totalCount","results"} with section, page (0-based),
// page-size (default 100, at most 2000), sort and an RSQL filter subset:
// ==, !=, =in=, =out=, joined by ; (and) and , (or), with parentheses;
// string comparisons ignore case. By-id routes serve the Jamf Pro API
// (/api/v1/computers-inventory/{id}, /api/v2/mobile-devices/{id}) and
// the Classic API (/JSSResource/computers/id/{id},
// /JSSResource/mobiledevices/id/{id}, /JSSResource/users/id|name|email/…),
// 404 once deleted. Tests add and delete objects; Jamf has no disabled
// state, so neither has the fake.
//
// # Concurrency
//
// Jamf asks clients to keep to 5 concurrent connections (§7.4) and has
// no 429 to enforce it, so the fake counts requests in flight and keeps
// the maximum (MaxInFlight). Hold makes API requests wait for each other,
// so a test sees a client's concurrency reach its limit without timing.
//
// # Webhook driver
//
// WebhookDriver plays Jamf's side of the SCEPChallenge webhook (§7.5):
// it POSTs the envelope with HTTP Basic to certgate's challenge URL and
// returns the status and body, with the timestamp in milliseconds (Jamf's
// general webhook doc) or seconds (Fleet's emulation), and optional
// unknown fields.
//
// Nothing here is build-tagged: any test in the module may import it.
package jamf

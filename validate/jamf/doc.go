// Package jamf connects certgate to Jamf Pro (INTEGRATIONS.md §7): the
// SCEPChallenge webhook that hands Jamf one-time challenges, the
// SCEPman-style subject binding for Jamf's static-challenge mode, and an
// optional device check against the Jamf Pro API.
//
// # Dynamic challenges: Webhook
//
// With a "webhook" challenge, Jamf asks certgate for a challenge each time
// it builds a SCEP payload: it POSTs a SCEPChallenge event with HTTP Basic
// credentials and puts the plain-text body of a 200 answer into the
// profile (§7.5). Webhook checks the credentials in constant time, mints a
// random 128-bit challenge, stores only its hash (validate.ChallengeHash)
// with a TTL through a one-method ChallengeStore, and answers it. The
// one-time validator (validate.OneTime) consumes it at enrollment.
//
// The event's official payload is unconfirmed (§9.8), so parsing is
// lenient where that is safe: unknown fields are ignored, and
// webhook.eventTimestamp may be epoch milliseconds (Jamf's general webhook
// doc) or seconds (Fleet's emulation), told apart by size. It is strict
// where leniency would mint challenges for the wrong thing: the body must
// be a JSON object whose webhook.webhookEvent is SCEPChallenge, and the
// identifier the challenge is bound to must be present.
//
// Binding. By default the challenge is bound to event.payloadIdentifier,
// as the contract says, and the value goes in store.Challenge.DeviceID
// rather than Subject: OneTime accepts a DeviceID that is the CSR's CN or
// the tail of a URI SAN, so the SCEP payload can keep CN=$JSSID (§7.1)
// and carry the identifier in a SAN, whereas Subject would force the CN
// to be the payload identifier. The price is that OneTime then reports
// the payload identifier as Decision.DeviceID; combine it with
// SubjectBinding to learn the Jamf object. BindDeviceUDID binds to a
// device UDID instead, for a Jamf that sends one (Fleet's event.device
// extension), and BindNone binds to nothing but the profile.
//
// # Static challenges: SubjectBinding
//
// In SCEPman's setup Jamf proxies enrollments with one static challenge
// and the subject names the Jamf object: CN=$JSSID,OU=computers (or
// devices, users-on-computers, users-on-devices), often with a second
// CN=$PROFILE_IDENTIFIER. SubjectBinding runs the challenge validator it
// wraps (e.g. validate.Static), then requires exactly one such OU and
// exactly one numeric CN, and answers the object as Decision.DeviceID
// ("computers/123"). With a DeviceLookup it also asks Jamf whether the
// object still exists.
//
// # Device check: DeviceChecker
//
// DeviceChecker finds inventory records through the Jamf Pro API with an
// RSQL filter and paging (§7.3), rather than by-id GETs, because an empty
// filtered list is the documented answer for a missing object while the
// 404 of by-id routes is not confirmed. It authenticates as an API client
// (client credentials) or, for old setups, as a user (Basic to bearer).
// Whether /api/oauth/token or /api/v1/oauth/token exists is unconfirmed
// (§9.9): it tries the documented path and falls back to the other on
// 404, remembering which answered; user tokens are read as
// {"token","expires"} or in the OAuth shape. Tokens are cached until a
// minute (at most half their life) before expiry and refreshed by one
// request however many callers wait; a token Jamf refuses with 401 is
// dropped and the call retried once.
//
// Jamf has no rate limiting and asks clients to stay within 5 concurrent
// connections (§7.4), so every request to Jamf, token requests included,
// holds one of at most 5 semaphore slots, and the transport allows at
// most as many connections.
//
// # Policy: fail closed
//
// A device that Jamf does not list is a *validate.Rejection. Everything
// else that prevents an answer (a 5xx, a 401 after a fresh token, an HTML
// page, a body that is not the expected JSON, a timeout or a reset) is a
// plain error: the validator could not decide, and the enrollment is
// refused. Each call is bounded by CheckerConfig.Timeout (30 s by
// default), token included.
//
// # Secrets
//
// The client secret, user password, webhook credentials, bearer tokens
// and minted challenges never appear in an error, a log line, a metric or
// a String of a value of this package.
package jamf

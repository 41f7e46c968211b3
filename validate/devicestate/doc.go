// Package devicestate revokes and holds certificates according to the
// state of the device they are bound to in an MDM (Intune, Entra ID, Jamf
// Pro, Workspace ONE), as INTEGRATIONS.md §5 and §11 describe.
//
// Policy:
//   - A device the MDM definitively reports gone (404, an empty list) or
//     in a permanent state (wiped, retired, delete pending) has its
//     certificates revoked with reason cessationOfOperation. That is
//     final: a device that reappears does not get them back.
//   - A reversible bad state (Entra accountEnabled false; non-compliant
//     when the profile checks compliance, after the grace period) puts
//     the certificates on certificateHold, and the hold is lifted when
//     the device is good again. Only holds this package placed are ever
//     lifted (DeviceState.Held), never an operator's.
//   - When the MDM gives no usable answer (5xx, 429, a timeout, a reset,
//     a body that is not JSON, a refused token), fail_open keeps the last
//     known state; fail_closed also keeps it until the device has gone
//     unconfirmed for longer than max_staleness (counted from the last
//     definitive answer, or from issuance if there never was one), and
//     then holds its certificates until the MDM confirms it good.
//
// Decide is the whole decision, a pure function; Poller applies it on an
// interval to every valid or held certificate of a profile that records
// a device ID, one lookup per device. Every action is idempotent, so two
// replicas polling at once do no harm beyond the extra lookups.
package devicestate

// Package verifyyou is KYC Desk's adapter for VerifyYou "business connect":
// it registers a user under our reference_id and hands back the invite URL
// (shown as a link and a QR code rendered by the app), reads a user's
// connection status and data request response, polls check_for_updates with
// a cursor the caller persists, and authenticates the HMAC-SHA256 signed
// webhooks VerifyYou sends to POST /webhooks/verifyyou/{event}.
//
// The vendor document in shared/seeds (002) is the contract: its paths,
// fields and envelopes are what this package sends and expects. Where the
// public v1 API (2026) renamed a response or webhook field, the decoders
// accept that spelling too; requests use the seed's field names only. Every
// wire name lives in client.go's constants so that it can be corrected
// against a real account in one place.
//
// The adapter never touches the database; the caller (providers/flow)
// stores updates, the inbox and the check_for_updates cursor.
package verifyyou

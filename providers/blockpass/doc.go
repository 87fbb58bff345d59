// Package blockpass is the KYC Desk adapter for Blockpass KYC Connect (the
// Dashboard API): it pages through candidates, fetches one candidate's
// identity data by refId or recordId, extracts it into the provider-neutral
// model, verifies the HMAC-signed webhooks, decrypts encrypted profile
// exports, and builds the KYC Connect link an end user opens.
//
// Blockpass has no "create verification" call: the link carries our refId,
// the user registers in the Blockpass app, and we learn of the record from a
// webhook or a listing. Where the Blockpass documents are silent (the connect
// link, the error body, per-request response encryption) the choice is kept
// in one constant or one file so it can be corrected against a real account.
package blockpass

// Package selfkey is the protocol engine behind the endpoints KYC Desk
// serves to the SelfKey Identity Wallet (the wallet calls us; we never call
// SelfKey). It issues and checks the challenge, wallet and user JWTs,
// recovers the signer of the wallet's EIP-191 personal_sign over the nonce
// and compares it with the DID or key that asked, parses the wallet's
// requests (attributes, multipart documents, files, applications) within
// size bounds and without temporary files, maps SelfKey attribute schemas
// to meanings and KYC-Chain status codes to normalised statuses, and turns
// every failure into the {"code","message"} body the wallet expects.
//
// The HTTP handlers stay thin: parse the request with the functions here,
// call the Service, store what it returns, and render HTTPStatus(err) on
// failure. Nothing here touches a database; single-use challenges are kept
// through the ChallengeStore the app provides.
package selfkey

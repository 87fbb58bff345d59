// Package sim is the SelfKey simulator. SelfKey's counterpart of our
// endpoints is a wallet, not a server, so the simulator is a Wallet: a
// generated secp256k1 key that walks our /selfkey endpoints over HTTP
// exactly as the SelfKey Identity Wallet does (headers, paths, body shapes),
// plus negative helpers for tests and a small control page (Server) that
// lets a sandbox user run the walk from a browser.
package sim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/kycdesk/kycdesk/providers/selfkey"
)

// DefaultVersion is the wallet version sent in the User-Agent (the last
// Identity Wallet release).
const DefaultVersion = "2.1.3"

// DefaultOrigin is the Origin the wallet sends when the relying party's
// config sets none.
const DefaultOrigin = "IDW"

// Wallet is a simulated SelfKey Identity Wallet.
type Wallet struct {
	key *secp256k1.PrivateKey
	// Version goes into "User-Agent: SelfKeyIDW/<Version>".
	Version string
	// Origin is sent as the Origin header.
	Origin string
	// Legacy makes the wallet behave as with config.did === false: the
	// challenge subject is its public key and the signature is sent as a
	// bare string.
	Legacy bool
	// UserFiles makes /users go as the final wallet sends it by default:
	// each document first to POST /users/file, then POST /users as JSON
	// with the returned ids. Off, /users is one multipart request (the
	// seed's form, and the wallet's when /users/file is disabled).
	UserFiles bool
	// Meta is the relying party's meta object, passed on with /users (our
	// verification reference goes here).
	Meta map[string]any
	// Profile holds attribute values by schema short name; nil uses
	// DefaultProfile. File-schema attributes get the sample document.
	Profile map[string]any
	// TemplateID picks the template to apply for; "" takes the first.
	TemplateID string
}

// NewWallet generates a wallet key from random (nil = crypto/rand).
func NewWallet(random io.Reader) (*Wallet, error) {
	if random == nil {
		random = rand.Reader
	}
	k, err := secp256k1.GeneratePrivateKeyFromRand(random)
	if err != nil {
		return nil, fmt.Errorf("selfkey sim: generate key: %w", err)
	}
	return &Wallet{key: k, Version: DefaultVersion, Origin: DefaultOrigin}, nil
}

// WalletFromKeyHex returns a wallet with a known private key (64 hex digits,
// "0x" optional), e.g. the selfkey.js test key of the shared vectors.
func WalletFromKeyHex(keyHex string) (*Wallet, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(keyHex, "0x"))
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("selfkey sim: key is not 32 bytes of hex")
	}
	return &Wallet{key: secp256k1.PrivKeyFromBytes(b), Version: DefaultVersion, Origin: DefaultOrigin}, nil
}

// Address is the wallet's Ethereum address, lowercase.
func (w *Wallet) Address() string {
	return selfkey.AddressOf(w.key.PubKey().SerializeUncompressed())
}

// DID is the wallet's did:eth DID.
func (w *Wallet) DID() string { return "did:eth:" + w.Address() }

// PublicKeyHex is the wallet's legacy subject, "0x" + 128 hex.
func (w *Wallet) PublicKeyHex() string {
	return selfkey.PublicKeyHex(w.key.PubKey().SerializeUncompressed())
}

// Subject is what the wallet asks a challenge for: its DID, or its public
// key in Legacy mode.
func (w *Wallet) Subject() string {
	if w.Legacy {
		return w.PublicKeyHex()
	}
	return w.DID()
}

// KeyID is the DID key id the wallet names in its answer.
func (w *Wallet) KeyID() string { return w.DID() + "#keys-1" }

// SignNonce signs nonce as the wallet does: Ethereum personal_sign
// (EIP-191) over the nonce text's bytes, "0x" + r + s + v with v 27/28.
func (w *Wallet) SignNonce(nonce string) string {
	return signPersonal(w.key, nonce)
}

func signPersonal(k *secp256k1.PrivateKey, msg string) string {
	c := ecdsa.SignCompact(k, selfkey.PersonalHash([]byte(msg)), false)
	sig := append(append(make([]byte, 0, 65), c[1:]...), c[0]) // r s v
	return "0x" + hex.EncodeToString(sig)
}

func (w *Wallet) userAgent() string {
	v := w.Version
	if v == "" {
		v = DefaultVersion
	}
	return "SelfKeyIDW/" + v
}

func (w *Wallet) origin() string {
	if w.Origin == "" {
		return DefaultOrigin
	}
	return w.Origin
}

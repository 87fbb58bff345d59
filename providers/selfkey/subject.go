package selfkey

import (
	"fmt"
	"net/netip"
	"strings"
)

// SubjectKind says what a challenge was issued to.
type SubjectKind int

// Subject kinds.
const (
	SubjectInvalid    SubjectKind = iota
	SubjectEthDID                 // did:eth:0x<40 hex>
	SubjectSelfKeyDID             // did:selfkey:0x<64 hex>
	SubjectPublicKey              // 0x<128 hex>, the wallet with config.did === false
	SubjectClientIP               // the seed's flow: GET /auth/challenge without a subject
)

// Subject is a parsed challenge subject.
type Subject struct {
	Kind SubjectKind
	// Canonical is the subject as we store and compare it: lowercase hex,
	// DID parameters removed.
	Canonical string
	// Address is set for did:eth; ID (0x + 64 hex) for did:selfkey;
	// PublicKey (0x + 128 hex) for a legacy key subject.
	Address   string
	ID        string
	PublicKey string
	// Chain is the selfkey:chain DID parameter ("" = mainnet).
	Chain string
}

// maxSubjectLen bounds a subject before any parsing.
const maxSubjectLen = 256

// ParseSubject parses a challenge subject: did:eth:0x<address>,
// did:selfkey:0x<64 hex> (both with optional ";selfkey:chain=…" parameters,
// which dev wallets append), a legacy "0x"+128-hex public key, or an IP
// address (the seed's subject, the client IP). Anything else is
// ErrInvalidSubject.
func ParseSubject(sub string) (Subject, error) {
	if sub == "" || len(sub) > maxSubjectLen {
		return Subject{}, fmt.Errorf("selfkey: parse subject: %w", ErrInvalidSubject)
	}
	if rest, ok := cutPrefixFold(sub, "did:"); ok {
		id, params, _ := strings.Cut(rest, ";")
		method, specific, ok := strings.Cut(id, ":")
		if !ok {
			return Subject{}, fmt.Errorf("selfkey: parse subject: %w", ErrInvalidSubject)
		}
		chain := ""
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "selfkey:chain") {
				chain = strings.ToLower(v)
			}
		}
		specific = strings.ToLower(specific)
		switch strings.ToLower(method) {
		case "eth":
			if !isHex0x(specific, 40) {
				break
			}
			return Subject{Kind: SubjectEthDID, Canonical: "did:eth:" + specific, Address: specific, Chain: chain}, nil
		case "selfkey":
			if !isHex0x(specific, 64) {
				break
			}
			return Subject{Kind: SubjectSelfKeyDID, Canonical: "did:selfkey:" + specific, ID: specific, Chain: chain}, nil
		}
		return Subject{}, fmt.Errorf("selfkey: parse subject: %w", ErrInvalidSubject)
	}
	if lower := strings.ToLower(sub); isHex0x(lower, 128) {
		return Subject{Kind: SubjectPublicKey, Canonical: lower, PublicKey: lower}, nil
	}
	if ip, err := netip.ParseAddr(sub); err == nil {
		return Subject{Kind: SubjectClientIP, Canonical: ip.String()}, nil
	}
	return Subject{}, fmt.Errorf("selfkey: parse subject: %w", ErrInvalidSubject)
}

// isHex0x reports whether s is "0x" followed by n lowercase hex digits.
func isHex0x(s string, n int) bool {
	if len(s) != n+2 || s[:2] != "0x" {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

package corepass

import (
	"crypto/sha3"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Core ID network prefixes (providers.md §2.2).
const (
	PrefixMainnet    = "cb" // Core mainnet, network id 1
	PrefixDevin      = "ab" // Devin testnet, network id 3
	PrefixEnterprise = "ce" // private / enterprise networks
)

// coreIDLen is the short Core ID: prefix(2) + checksum(2) + 40 hex digits
// of account hash. The 118-character long form carries a public key and is
// used by the passkey login, not by the connector.
const coreIDLen = 44

// ErrInvalidCoreID is wrapped by every Core ID validation failure.
var ErrInvalidCoreID = errors.New("invalid Core ID")

// NormalizeCoreID returns the canonical form of a Core ID (lowercase, no
// 0x) after checking its length, network prefix and ISO 13616 mod-97
// checksum.
func NormalizeCoreID(s string) (string, error) {
	id := strings.ToLower(strings.TrimSpace(s))
	id = strings.TrimPrefix(id, "0x")
	if len(id) != coreIDLen {
		if len(id) == 118 {
			return "", fmt.Errorf("%w: long-form Core IDs are not used by the connector; give the 44-character one", ErrInvalidCoreID)
		}
		return "", fmt.Errorf("%w: want %d hex characters, got %d", ErrInvalidCoreID, coreIDLen, len(id))
	}
	if _, err := networkName(id[:2]); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidCoreID, err)
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", fmt.Errorf("%w: only hex digits 0-9, a-f are allowed", ErrInvalidCoreID)
	}
	if id[2] > '9' || id[3] > '9' {
		return "", fmt.Errorf("%w: the two checksum characters after the prefix must be decimal digits", ErrInvalidCoreID)
	}
	if want := coreIDChecksum(id[4:], id[:2]); want != id[2:4] {
		return "", fmt.Errorf("%w: checksum does not match (mistyped character?)", ErrInvalidCoreID)
	}
	return id, nil
}

// ValidateCoreID reports whether s is a well-formed Core ID on any of the
// three networks, with a message that says what is wrong.
func ValidateCoreID(s string) error {
	_, err := NormalizeCoreID(s)
	return err
}

// ValidateCoreIDOn is ValidateCoreID restricted to one network prefix
// ("cb", "ab" or "ce"); an empty prefix accepts any network.
func ValidateCoreIDOn(s, prefix string) error {
	id, err := NormalizeCoreID(s)
	if err != nil || prefix == "" {
		return err
	}
	if id[:2] != prefix {
		have, _ := networkName(id[:2])
		want, _ := networkName(prefix)
		return fmt.Errorf("%w: it is a %s Core ID, this connector serves %s", ErrInvalidCoreID, have, want)
	}
	return nil
}

// CoreIDNetwork names the network of a Core ID's prefix ("mainnet",
// "devin testnet", "enterprise"), or "" when the prefix is unknown.
func CoreIDNetwork(id string) string {
	id = strings.TrimPrefix(strings.ToLower(id), "0x")
	if len(id) < 2 {
		return ""
	}
	name, _ := networkName(id[:2])
	return name
}

// CoreIDFromPubKey derives the Core ID of an Ed448 public key on the network
// with the given prefix: the last 20 bytes of SHA3-256(key), behind the
// prefix and its checksum. It is how the connector's pinned key is shown as
// a Core ID.
func CoreIDFromPubKey(pub []byte, prefix string) string {
	sum := sha3.Sum256(pub)
	account := hex.EncodeToString(sum[12:])
	return prefix + coreIDChecksum(account, prefix) + account
}

// coreIDChecksum computes the two decimal check digits of ISO 13616 over
// account ‖ prefix ‖ "00", letters A-F counting as 10-15.
func coreIDChecksum(account, prefix string) string {
	s := strings.ToUpper(account+prefix) + "00"
	var digits strings.Builder
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			fmt.Fprintf(&digits, "%d", c-'A'+10)
		} else {
			digits.WriteRune(c)
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	return fmt.Sprintf("%02d", 98-new(big.Int).Mod(n, big.NewInt(97)).Int64())
}

func networkName(prefix string) (string, error) {
	switch prefix {
	case PrefixMainnet:
		return "mainnet", nil
	case PrefixDevin:
		return "devin testnet", nil
	case PrefixEnterprise:
		return "enterprise", nil
	}
	return "", fmt.Errorf("unknown network prefix %q (want cb mainnet, ab Devin testnet or ce enterprise)", prefix)
}

// networkPrefix accepts a prefix or a network name as an operator writes it.
func networkPrefix(s string) (string, error) {
	switch s {
	case PrefixMainnet, "mainnet":
		return PrefixMainnet, nil
	case PrefixDevin, "devin", "testnet":
		return PrefixDevin, nil
	case PrefixEnterprise, "enterprise", "private":
		return PrefixEnterprise, nil
	}
	return "", fmt.Errorf("unknown network %q (want cb/mainnet, ab/devin or ce/enterprise)", s)
}

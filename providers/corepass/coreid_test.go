package corepass

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateCoreIDVectors(t *testing.T) {
	v := loadVectors(t)
	for _, id := range v.ValidCoreIDs {
		if err := ValidateCoreID(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
		if err := ValidateCoreID("0x" + strings.ToUpper(id)); err != nil {
			t.Errorf("0x+upper %s: %v", id, err)
		}
	}
	for _, id := range v.InvalidCoreIDs {
		err := ValidateCoreID(id)
		if !errors.Is(err, ErrInvalidCoreID) {
			t.Errorf("%s: err = %v, want ErrInvalidCoreID", id, err)
		}
	}
	if got := CoreIDFromPubKey(v.pubKey(t), PrefixDevin); got != v.ConnectorCoreID {
		t.Errorf("CoreIDFromPubKey = %s, want %s", got, v.ConnectorCoreID)
	}
}

func TestValidateCoreIDMessages(t *testing.T) {
	const good = "ab22b1671b4f7ccc0b16a87514adde84513b6348232e"
	tests := []struct {
		name, id, want string
	}{
		{"last nibble changed", good[:43] + "f", "checksum does not match"},
		{"checksum changed", "ab23" + good[4:], "checksum does not match"},
		{"unknown prefix", "zz" + good[2:], `unknown network prefix "zz"`},
		{"too short", good[:42], "want 44 hex characters, got 42"},
		{"not hex", good[:43] + "g", "only hex digits"},
		{"hex checksum digits", "abf2" + good[4:], "must be decimal digits"},
		{"long form", "ab12" + strings.Repeat("0", 114), "long-form"},
		{"empty", "", "got 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateCoreID(tc.id)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want containing %q", err, tc.want)
			}
		})
	}
}

func TestValidateCoreIDOnAndNetwork(t *testing.T) {
	const testnet = "ab22b1671b4f7ccc0b16a87514adde84513b6348232e"
	if err := ValidateCoreIDOn(testnet, ""); err != nil {
		t.Errorf("any network: %v", err)
	}
	if err := ValidateCoreIDOn(testnet, PrefixDevin); err != nil {
		t.Errorf("devin: %v", err)
	}
	err := ValidateCoreIDOn(testnet, PrefixMainnet)
	if err == nil || !strings.Contains(err.Error(), "devin testnet Core ID, this connector serves mainnet") {
		t.Errorf("mainnet-only: %v", err)
	}
	mainnet := CoreIDFromPubKey([]byte("any key bytes"), PrefixMainnet)
	if err := ValidateCoreIDOn(mainnet, PrefixMainnet); err != nil {
		t.Errorf("derived mainnet ID %s: %v", mainnet, err)
	}
	if n := CoreIDNetwork(mainnet); n != "mainnet" {
		t.Errorf("CoreIDNetwork = %q", n)
	}
	if n := CoreIDNetwork("ce00"); n != "enterprise" {
		t.Errorf("CoreIDNetwork(ce) = %q", n)
	}
}

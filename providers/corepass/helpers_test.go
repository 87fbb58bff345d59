package corepass

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/ed448"
)

// vectors is testdata/vectors.json: the "corepass" part of the shared
// known-answer vectors (status-callback samples signed by a real connector).
type vectors struct {
	ConnectorCoreID    string            `json:"connector_core_id"`
	ConnectorPubKeyHex string            `json:"connector_pubkey_hex"`
	FieldHashOfItem    map[string]string `json:"field_hash_of_item"`
	ValidCoreIDs       []string          `json:"valid_core_ids"`
	InvalidCoreIDs     []string          `json:"invalid_core_ids"`
	StatusCallbacks    []struct {
		Body          string `json:"body"`
		SignedMessage string `json:"signed_message"`
		SHA3          string `json:"sha3_256_hex"`
		Valid         bool   `json:"valid"`
		Why           string `json:"why"`
	} `json:"status_callbacks"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func (v vectors) pubKey(t *testing.T) []byte {
	t.Helper()
	b, err := hex.DecodeString(v.ConnectorPubKeyHex)
	if err != nil || len(b) != ed448.PublicKeySize {
		t.Fatalf("vector pubkey: %v (%d bytes)", err, len(b))
	}
	return b
}

// beforeSamples is a clock pinned before both seed samples' deadlines
// (1677255437 and 1677255497).
var beforeSamples = time.Unix(1677255400, 0)

// testKey is a fixed connector key for tests that sign their own bodies.
func testKey() ed448.PrivateKey {
	seed := make([]byte, ed448.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	return ed448.NewKeyFromSeed(seed)
}

func testPub(priv ed448.PrivateKey) []byte {
	return []byte(priv.Public().(ed448.PublicKey))
}

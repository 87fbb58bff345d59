package sim

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/ed448"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/corepass"
)

func TestSignStatusCallbackVerifies(t *testing.T) {
	pub, priv, _ := ed448.GenerateKey(rand.Reader)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	body, err := SignStatusCallback(priv, StatusCallback{User: "ab22b1671b4f7ccc0b16a87514adde84513b6348232e", Items: []string{"SH_IDCard_DOB"},
		Status: "ACCEPTED", Expiration: now.Add(10 * time.Minute).Unix(), Deadline: now.Add(3 * time.Minute).Unix(), TxHash: "0xab"})
	if err != nil {
		t.Fatal(err)
	}
	c := corepass.New(corepass.Config{PubKey: pub}, nil, func() time.Time { return now })
	u, err := c.ParseStatusCallback(body, now)
	if err != nil {
		t.Fatalf("a callback signed by SignStatusCallback does not verify: %v", err)
	}
	if u.ProviderStatus != "ACCEPTED" || u.TxHash != "0xab" {
		t.Fatalf("update %+v", u)
	}
	other, _, _ := ed448.GenerateKey(rand.Reader)
	c2 := corepass.New(corepass.Config{PubKey: other}, nil, func() time.Time { return now })
	if _, err := c2.ParseStatusCallback(body, now); !errors.Is(err, providers.ErrBadSignature) {
		t.Fatalf("verified with another key: %v", err)
	}
}

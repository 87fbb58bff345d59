package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealRoundTripAndRefusals(t *testing.T) {
	kek, err := NewKEK(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	raw := NewKey()
	wrapped, err := kek.Wrap(7, raw)
	if err != nil {
		t.Fatal(err)
	}
	dk, err := kek.Unwrap(7, wrapped)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("Erika Mustermann 1964-08-12")
	ct := dk.Seal(secret)
	if bytes.Contains(ct, secret) {
		t.Fatal("ciphertext contains the plaintext")
	}
	if got, err := dk.Open(ct); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open = %q, %v", got, err)
	}

	other, _ := NewDataKey(8, NewKey())
	sameKeyOtherApplicant, _ := NewDataKey(8, raw)
	otherKEK, _ := NewKEK(NewKey())
	flipped := bytes.Clone(ct)
	flipped[len(flipped)-1] ^= 1

	cases := []struct {
		name string
		open func() error
	}{
		{"tampered ciphertext", func() error { _, err := dk.Open(flipped); return err }},
		{"truncated ciphertext", func() error { _, err := dk.Open(ct[:10]); return err }},
		{"another applicant's key", func() error { _, err := other.Open(ct); return err }},
		{"moved to another applicant (same key bytes)", func() error { _, err := sameKeyOtherApplicant.Open(ct); return err }},
		{"wrapped key unwrapped for another applicant", func() error { _, err := kek.Unwrap(8, wrapped); return err }},
		{"wrapped key under another KEK", func() error { _, err := otherKEK.Unwrap(7, wrapped); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.open(); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("err = %v, want ErrDecrypt", err)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	key := NewKey()
	for _, s := range []string{
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	} {
		if b, err := ParseKey(s); err != nil || len(b) != KeySize {
			t.Errorf("ParseKey(%q) = %d bytes, %v", s, len(b), err)
		}
	}
	for _, s := range []string{"", "short", "zz" + string(key)} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
	a, _ := NewKEK(key)
	b, _ := NewKEK(key)
	c, _ := NewKEK(NewKey())
	if a.ID() != b.ID() || a.ID() == c.ID() {
		t.Fatal("KEK fingerprints are not stable per key")
	}
}

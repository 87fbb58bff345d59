package password

import "testing"

func TestHashCheck(t *testing.T) {
	h, err := Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(h, "correct horse battery"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	for _, bad := range []string{"", "correct horse batterY", "correct horse battery "} {
		if Check(h, bad) == nil {
			t.Errorf("wrong password %q accepted", bad)
		}
	}
	for _, garbage := range []string{"", "$argon2id$", "plain", "$argon2id$v=19$m=x$a$b"} {
		if Check(garbage, "x") == nil {
			t.Errorf("garbage hash %q accepted", garbage)
		}
	}
	h2, _ := Hash("correct horse battery")
	if h == h2 {
		t.Fatal("hashes are not salted")
	}
	if len(Generate()) < 20 {
		t.Fatal("generated password too short")
	}
}

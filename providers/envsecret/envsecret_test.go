package envsecret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "key")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(full, []byte("s3cret\n"), 0o600)
	os.WriteFile(empty, []byte("\n"), 0o600)
	cases := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr string
	}{
		{"unset", nil, "", ""},
		{"value", map[string]string{"K": " v "}, "v", ""},
		{"file, trailing newline dropped", map[string]string{"K_FILE": full}, "s3cret", ""},
		{"both", map[string]string{"K": "v", "K_FILE": full}, "", "set only one of K and K_FILE"},
		{"missing file", map[string]string{"K_FILE": filepath.Join(dir, "nope")}, "", "K_FILE: read secret file"},
		{"empty file", map[string]string{"K_FILE": empty}, "", "K_FILE: the file is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(func(k string) string { return tc.env[k] }, "K")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

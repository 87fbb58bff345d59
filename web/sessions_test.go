package web

import (
	"strings"
	"testing"
)

func TestStringValuesRoundTrip(t *testing.T) {
	in := map[any]any{"sid": "abc", "csrf": "tok", "flash": `Saved "it" <b>`}
	b, err := stringValues{}.Serialize(in)
	if err != nil {
		t.Fatal(err)
	}
	out := map[any]any{}
	if err := (stringValues{}).Deserialize(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("decoded %v, want %v", out, in)
	}
	for k, v := range in {
		if out[k] != v {
			t.Errorf("%v = %v, want %v", k, out[k], v)
		}
	}
}

func TestStringValuesRefuses(t *testing.T) {
	for name, in := range map[string]any{
		"not a map":      []string{"x"},
		"int value":      map[any]any{"n": 1},
		"non-string key": map[any]any{1: "x"},
	} {
		if _, err := (stringValues{}).Serialize(in); err == nil {
			t.Errorf("%s: serialized", name)
		}
	}
	out := map[any]any{}
	for _, bad := range []string{"", "[]", `{"a":1}`, "{"} {
		if err := (stringValues{}).Deserialize([]byte(bad), &out); err == nil {
			t.Errorf("Deserialize(%q) accepted", bad)
		}
	}
	var notMap string
	if err := (stringValues{}).Deserialize([]byte(`{}`), &notMap); err == nil || !strings.Contains(err.Error(), "cannot decode") {
		t.Errorf("Deserialize into a string: %v", err)
	}
}

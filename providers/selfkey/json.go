package selfkey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// FlexString is an identifier the wallet may send as a JSON string or a
// number (the seed's template ids are numbers, the final ones strings).
type FlexString string

// UnmarshalJSON accepts a string, a number or null.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("id is neither a string nor a number")
	}
	*f = FlexString(n.String())
	return nil
}

// decodeJSON is json.Unmarshal that maps every failure to ErrBadRequest.
func decodeJSON(data []byte, v any, what string) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("selfkey: decode %s: %w", what, ErrBadRequest)
	}
	return nil
}

// readBounded reads all of r, or fails with ErrRequestTooLarge past max.
func readBounded(r io.Reader, max int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("selfkey: read %s: %w", what, ErrBadRequest)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("selfkey: read %s: %w", what, ErrRequestTooLarge)
	}
	return data, nil
}

// ParseLoginBody reads the POST /login body, {"token":"…"} or the
// {"jwt":"…"} the demo relying party also accepts.
func ParseLoginBody(body []byte) (string, error) {
	var b struct {
		Token string `json:"token"`
		JWT   string `json:"jwt"`
	}
	if len(body) > maxSignatureBody {
		return "", fmt.Errorf("selfkey: login body: %w", ErrRequestTooLarge)
	}
	if err := decodeJSON(body, &b, "login body"); err != nil {
		return "", err
	}
	if b.Token == "" {
		b.Token = b.JWT
	}
	if b.Token == "" {
		return "", fmt.Errorf("selfkey: login body: %w", ErrTokenMissing)
	}
	return b.Token, nil
}

package corepass

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"

	"github.com/kycdesk/kycdesk/providers"
)

// This file holds every guess about the data callback that CorePass has not
// published (providers.md §2.7), so that it can be corrected against the
// first real delivery without touching anything else.

// dataCallbackMessages returns the candidate messages a data or error
// callback's signature may cover, most likely first, and the signature.
//
//  1. The status-callback scheme, which is verified against real connector
//     samples: the compact JSON body, members in received order, without
//     "signature". The simulator signs this way.
//  2. Only for a success body with exactly user, infos, deadline and
//     expiration: the seed's Go snippet, json.NewEncoder output of
//     struct{User; Infos; Deadline; Expiration} (untagged, so the keys are
//     the Go field names) with its trailing newline. It covers every member
//     of such a body, so accepting it lets nothing unsigned through.
//
// Neither reproduces the document's two (older, differently keyed) data
// callback samples; see providers.md.
func dataCallbackMessages(doc []byte) ([][]byte, string, error) {
	msg, sig, err := splitSignature(doc)
	if err != nil {
		return nil, "", err
	}
	msgs := [][]byte{msg}

	var members map[string]json.RawMessage
	if json.Unmarshal(doc, &members) != nil {
		return msgs, sig, nil
	}
	for k := range members {
		switch k {
		case "user", "infos", "deadline", "expiration", "signature":
		default:
			return msgs, sig, nil
		}
	}
	if _, ok := members["infos"]; !ok {
		return msgs, sig, nil
	}
	var cb struct {
		User  string `json:"user"`
		Infos []struct {
			FieldID    string `json:"fieldID"`
			FieldValue string `json:"fieldValue"`
			Pepper     string `json:"pepper"`
		} `json:"infos"`
		Deadline   int64 `json:"deadline"`
		Expiration int64 `json:"expiration"`
	}
	if json.Unmarshal(doc, &cb) != nil {
		return msgs, sig, nil
	}
	var seed bytes.Buffer
	if json.NewEncoder(&seed).Encode(struct {
		User       string
		Infos      any
		Deadline   int64
		Expiration int64
	}{cb.User, cb.Infos, cb.Deadline, cb.Expiration}) == nil {
		msgs = append(msgs, seed.Bytes())
	}
	return msgs, sig, nil
}

// maxParts bounds the parts read from a multipart body.
const maxParts = 256

// dataCallbackJSON extracts the JSON document of a data callback.
// multipart/form-data is read in one of two shapes, both inferred:
//   - one text field holding the whole JSON body (named data, body,
//     payload or json, or any field whose value is a JSON object with a
//     signature);
//   - one text field per member: user, infos (a JSON array), items (a JSON
//     array or repeated fields), error, deadline, expiration, signature;
//     they are put back together in the document's member order.
//
// File parts are ignored: nothing outside the signed JSON is trusted. Any
// other content type is taken as the JSON body itself.
func dataCallbackJSON(contentType string, body []byte) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		return body, nil
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, fmt.Errorf("%w: multipart body without boundary", providers.ErrMalformed)
	}
	type field struct{ name, value string }
	var fields []field
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for n := 0; ; n++ {
		if n == maxParts {
			return nil, fmt.Errorf("%w: more than %d multipart parts", providers.ErrMalformed, maxParts)
		}
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: multipart: %v", providers.ErrMalformed, err)
		}
		if p.FileName() != "" {
			p.Close()
			continue
		}
		v, err := io.ReadAll(p)
		p.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: multipart: %v", providers.ErrMalformed, err)
		}
		fields = append(fields, field{p.FormName(), string(v)})
	}

	isDoc := func(v string) bool {
		v = strings.TrimSpace(v)
		return strings.HasPrefix(v, "{") && strings.Contains(v, `"signature"`)
	}
	// Field names taken to hold the whole JSON body, in order of preference
	// (the real names are not published).
	for _, name := range []string{"data", "body", "payload", "json"} {
		for _, f := range fields {
			if f.name == name && isDoc(f.value) {
				return []byte(strings.TrimSpace(f.value)), nil
			}
		}
	}
	for _, f := range fields {
		if isDoc(f.value) {
			return []byte(strings.TrimSpace(f.value)), nil
		}
	}

	// One field per member.
	values := map[string][]string{}
	for _, f := range fields {
		values[f.name] = append(values[f.name], f.value)
	}
	one := func(name string) (string, bool) {
		v := values[name]
		if len(v) != 1 {
			return "", false
		}
		return strings.TrimSpace(v[0]), true
	}
	var doc bytes.Buffer
	member := func(name string, raw []byte) {
		if doc.Len() == 0 {
			doc.WriteByte('{')
		} else {
			doc.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		doc.Write(k)
		doc.WriteByte(':')
		doc.Write(raw)
	}
	str := func(s string) []byte { b, _ := json.Marshal(s); return b }

	user, ok := one("user")
	if !ok {
		return nil, fmt.Errorf("%w: multipart body has neither a JSON document nor a user field", providers.ErrMalformed)
	}
	member("user", str(user))
	if infos, ok := one("infos"); ok {
		if !json.Valid([]byte(infos)) {
			return nil, fmt.Errorf("%w: infos field is not JSON", providers.ErrMalformed)
		}
		var compact bytes.Buffer
		_ = json.Compact(&compact, []byte(infos))
		member("infos", compact.Bytes())
	}
	if items := values["items"]; len(items) > 0 {
		if len(items) == 1 && strings.HasPrefix(strings.TrimSpace(items[0]), "[") {
			var list []string
			if json.Unmarshal([]byte(items[0]), &list) != nil {
				return nil, fmt.Errorf("%w: items field is not a JSON list of strings", providers.ErrMalformed)
			}
			items = list
		}
		raw, _ := json.Marshal(items)
		member("items", raw)
	}
	if e, ok := one("error"); ok {
		member("error", str(e))
	}
	for _, name := range []string{"deadline", "expiration"} {
		v, ok := one(name)
		if !ok {
			continue
		}
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return nil, fmt.Errorf("%w: %s is not a unix time", providers.ErrMalformed, name)
		}
		member(name, []byte(v))
	}
	if s, ok := one("signature"); ok {
		member("signature", str(s))
	}
	doc.WriteByte('}')
	return doc.Bytes(), nil
}

// decodeImage reads an image item's fieldValue: base64 (standard or
// URL-safe, padded or not), optionally as a data: URL.
func decodeImage(v string) ([]byte, bool) {
	if strings.HasPrefix(v, "data:") {
		if i := strings.Index(v, ";base64,"); i >= 0 {
			v = v[i+len(";base64,"):]
		}
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			return b, true
		}
	}
	return nil, false
}

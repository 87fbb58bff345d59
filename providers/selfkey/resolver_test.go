package selfkey

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRPCResolver(t *testing.T) {
	id := "0x" + strings.Repeat("0f", 32)
	controller := "0x" + strings.Repeat("ab", 20)
	var reply string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Method string            `json:"method"`
			Params []json.RawMessage `json:"params"`
		}
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil || req.Method != "eth_call" || len(req.Params) != 2 {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		var call struct{ To, Data string }
		_ = json.Unmarshal(req.Params[0], &call)
		if call.To != DIDLedgerMainnet || call.Data != "0x"+getControllerSelector()+id[2:] {
			http.Error(w, "wrong call", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(reply))
	}))
	defer srv.Close()
	r := NewRPCResolver(srv.URL+"/v3/secret-api-key", srv.Client())
	sub, err := ParseSubject("did:selfkey:" + id)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		reply   string
		want    string
		wantErr error
	}{
		{"controller", `{"jsonrpc":"2.0","id":1,"result":"0x000000000000000000000000` + controller[2:] + `"}`, controller, nil},
		{"no controller", `{"jsonrpc":"2.0","id":1,"result":"0x` + strings.Repeat("0", 64) + `"}`, "", ErrDIDNotFound},
		{"rpc error", `{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"execution reverted"}}`, "", ErrResolver},
		{"short result", `{"jsonrpc":"2.0","id":1,"result":"0x"}`, "", ErrResolver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply = tt.reply
			got, err := r.Controller(context.Background(), sub)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) || got != tt.want {
				t.Fatalf("Controller = %s, %v", got, err)
			}
			if err != nil && strings.Contains(err.Error(), "secret-api-key") {
				t.Fatalf("error leaks the RPC URL: %v", err)
			}
		})
	}
	if len(getControllerSelector()) != 8 {
		t.Fatal("selector is not 4 bytes")
	}
	ropsten, _ := ParseSubject("did:selfkey:" + id + ";selfkey:chain=ropsten")
	if _, err := r.Controller(context.Background(), ropsten); !errors.Is(err, ErrDIDResolverNotConfigured) {
		t.Fatalf("ropsten: %v", err)
	}
}

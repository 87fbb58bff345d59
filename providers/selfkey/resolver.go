package selfkey

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/apiclient"
	"golang.org/x/crypto/sha3"
)

// DIDLedgerMainnet is the SelfKey DIDLedger contract on Ethereum mainnet
// (public: selfkey.js src/did/methods/selfkey-simple-resolver.js). The
// Ropsten deployment is gone with Ropsten.
const DIDLedgerMainnet = "0x0cb853331293d689c95187190e09bb46cb4e533e"

// DIDResolver finds the Ethereum address that controls a did:selfkey.
type DIDResolver interface {
	// Controller returns the controller address ("0x" + 40 hex) of the
	// did:selfkey with the given subject; ErrDIDNotFound when it has none.
	Controller(ctx context.Context, s Subject) (address string, err error)
}

// RPCResolver resolves did:selfkey with one eth_call of
// DIDLedger.getController(bytes32) over Ethereum JSON-RPC.
type RPCResolver struct {
	client   *apiclient.Client
	contract string
}

// NewRPCResolver returns a resolver calling rpcURL (which may carry an API
// key: it is never put in errors). httpClient nil means a 10 s timeout.
func NewRPCResolver(rpcURL string, httpClient *http.Client) *RPCResolver {
	return &RPCResolver{client: apiclient.New(providers.SelfKey, rpcURL, httpClient, nil), contract: DIDLedgerMainnet}
}

// getControllerSelector is the 4-byte ABI selector of getController(bytes32).
func getControllerSelector() string {
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte("getController(bytes32)"))
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// Controller implements DIDResolver.
func (r *RPCResolver) Controller(ctx context.Context, s Subject) (string, error) {
	if s.Kind != SubjectSelfKeyDID {
		return "", fmt.Errorf("selfkey: resolve did: %w", ErrInvalidSubject)
	}
	if s.Chain != "" && s.Chain != "mainnet" {
		return "", fmt.Errorf("selfkey: resolve did: chain %q: %w", s.Chain, ErrDIDResolverNotConfigured)
	}
	req := map[string]any{
		"jsonrpc": "2.0",
		"id":      1,
		"method":  "eth_call",
		"params": []any{
			map[string]string{"to": r.contract, "data": "0x" + getControllerSelector() + strings.TrimPrefix(s.ID, "0x")},
			"latest",
		},
	}
	var resp struct {
		Result string `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := r.client.JSON(ctx, "eth_call getController", http.MethodPost, "", req, &resp); err != nil {
		return "", fmt.Errorf("selfkey: resolve did: %v: %w", err, ErrResolver)
	}
	if resp.Error != nil {
		return "", fmt.Errorf("selfkey: resolve did: rpc error %d: %w", resp.Error.Code, ErrResolver)
	}
	word, err := hex.DecodeString(strings.TrimPrefix(resp.Result, "0x"))
	if err != nil || len(word) != 32 {
		return "", fmt.Errorf("selfkey: resolve did: result is not one ABI word: %w", ErrResolver)
	}
	addr := word[12:]
	zero := true
	for _, b := range addr {
		zero = zero && b == 0
	}
	if zero {
		return "", fmt.Errorf("selfkey: resolve did: %w", ErrDIDNotFound)
	}
	return "0x" + hex.EncodeToString(addr), nil
}

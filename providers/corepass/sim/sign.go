package sim

import (
	"encoding/json"
	"fmt"

	"github.com/cloudflare/circl/sign/ed448"

	"github.com/kycdesk/kycdesk/providers/corepass"
)

// StatusCallback is one status callback for SignStatusCallback.
type StatusCallback struct {
	User       string
	Items      []string
	Status     string
	Expiration int64
	Deadline   int64
	TxHash     string
}

// SignStatusCallback builds the body of a status callback signed with priv
// exactly as the simulator (and the connector) sends it. Load generators
// and tests use it to act as a connector without running a transfer.
func SignStatusCallback(priv ed448.PrivateKey, cb StatusCallback) ([]byte, error) {
	fields := make([]string, len(cb.Items))
	for i, it := range cb.Items {
		fields[i] = corepass.FieldHash(it)
	}
	signed := statusSigned{User: cb.User, Fields: fields, Status: cb.Status, Expiration: cb.Expiration, Deadline: cb.Deadline, TxHash: cb.TxHash}
	msg, err := json.Marshal(signed)
	if err != nil {
		return nil, fmt.Errorf("corepass sim: sign status callback: %w", err)
	}
	s := &Server{priv: priv}
	return json.Marshal(statusSent{signed.User, signed.Fields, signed.Status, signed.Expiration, signed.Deadline, s.sign(msg), signed.TxHash})
}

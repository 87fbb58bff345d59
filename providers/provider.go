// Package providers is the provider-neutral model of KYC Desk: the normalised
// statuses, the records an adapter hands back, and the small interfaces that
// each provider adapter (providers/<name>) implements. It imports no app
// package; providers/flow joins adapters to the store.
package providers

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Name identifies one of the five reusable-KYC providers.
type Name string

// The five providers KYC Desk integrates.
const (
	Blockpass Name = "blockpass"
	CorePass  Name = "corepass"
	VerifyYou Name = "verifyyou"
	SelfKey   Name = "selfkey"
	IDfy      Name = "idfy"
)

// All lists the providers in the order the UI shows them.
var All = []Name{Blockpass, CorePass, VerifyYou, SelfKey, IDfy}

// Title is the provider's display name.
func (n Name) Title() string {
	switch n {
	case Blockpass:
		return "Blockpass"
	case CorePass:
		return "CorePass"
	case VerifyYou:
		return "VerifyYou"
	case SelfKey:
		return "SelfKey"
	case IDfy:
		return "IDfy"
	}
	return string(n)
}

// Valid reports whether n is one of the five providers.
func (n Name) Valid() bool {
	for _, p := range All {
		if p == n {
			return true
		}
	}
	return false
}

// Status is the normalised verification status shared by every provider.
// The provider's own status is always kept verbatim beside it.
type Status string

// Normalised statuses.
const (
	StatusInvited     Status = "invited"
	StatusInProgress  Status = "in_progress"
	StatusNeedsReview Status = "needs_review"
	StatusApproved    Status = "approved"
	StatusRejected    Status = "rejected"
	StatusBlocked     Status = "blocked"
	StatusExpired     Status = "expired"
	StatusFailed      Status = "failed"
	StatusWithdrawn   Status = "withdrawn"
)

// Statuses lists every normalised status in workflow order.
var Statuses = []Status{StatusInvited, StatusInProgress, StatusNeedsReview, StatusApproved,
	StatusRejected, StatusBlocked, StatusExpired, StatusFailed, StatusWithdrawn}

// Valid reports whether s is a normalised status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Terminal reports whether no further provider event is expected.
func (s Status) Terminal() bool {
	switch s {
	case StatusApproved, StatusRejected, StatusBlocked, StatusExpired, StatusFailed, StatusWithdrawn:
		return true
	}
	return false
}

// StartRequest asks a provider to begin a verification.
type StartRequest struct {
	// Reference is our provider-specific reference for the applicant: never
	// our internal id (the IDfy document insists on it, and it is good hygiene
	// for every provider).
	Reference string
	// Params holds the provider's own start fields (a Core ID and requested
	// meanings for CorePass, resources for IDfy, ...). Keys are documented by
	// each adapter.
	Params map[string]string
	// CallbackURL and StatusCallbackURL are where the provider reaches us.
	CallbackURL       string
	StatusCallbackURL string
	// ReturnURL is where the end user is sent after the provider's flow.
	ReturnURL string
	// TTL is how long the link or QR should stay valid (0 = provider default).
	TTL time.Duration
}

// Started is what a provider hands back when a verification begins: what
// to show the end user (a link and/or QR) and the provider's identifiers.
type Started struct {
	ProviderRef string // the provider's own id for this verification or user
	// ExternalID is the user's identifier at the provider, shown on the
	// link card and searchable, when it is not ProviderRef (a CorePass
	// transfer is known by Core ID and items; the user by the Core ID).
	ExternalID     string
	Link           string // deep link / capture link / invite URL
	QRPNG          []byte // a QR image made by the provider, if any
	ExpiresAt      time.Time
	ProviderStatus string
	Status         Status
	// Notes tells staff what the provider could not honour (for example
	// items the CorePass user has not verified).
	Notes []string
}

// Attribute is one piece of personal data, named by meaning (full_name,
// date_of_birth, document_number, ...) and by the provider's own item name.
type Attribute struct {
	Meaning string
	Name    string
	Value   string
	Pepper  string // CorePass field pepper; PII too
}

// Document is one file of personal data (ID image, selfie, report).
type Document struct {
	Name        string
	ContentType string
	Data        []byte
}

// Certificate is provider metadata that survives archiving (Blockpass
// certs, transaction hashes, AML check results without PII).
type Certificate struct {
	Name  string
	Value string
}

// Update is a provider-side change to one verification, from a webhook,
// callback or poll.
type Update struct {
	// Reference is our reference as sent at start; ProviderRef the
	// provider's own id. Either may be empty; flow matches on what is there.
	Reference      string
	ProviderRef    string
	Event          string // the provider's event name, verbatim
	ProviderStatus string // verbatim
	Status         Status
	TxHash         string
	Reason         string
	At             time.Time
	Attributes     []Attribute
	Documents      []Document
	Certificates   []Certificate
}

// Delivery is an inbound webhook or callback after its authenticity check.
type Delivery struct {
	Provider    Name
	Event       string
	DeliveryKey string // deduplication key, stable across retries
	Verified    bool   // false only for providers with no published scheme (IDfy): a trigger, not a source of truth
	Ping        bool   // a connectivity test that carries no event
}

// Starter begins a verification with a provider.
type Starter interface {
	Start(ctx context.Context, req StartRequest) (Started, error)
}

// Refresher pulls the provider's current state for one verification.
type Refresher interface {
	Refresh(ctx context.Context, reference, providerRef string) (Update, error)
}

// StatusPeeker is implemented by a Refresher whose Refresh downloads more
// than the status (documents, attributes): PeekStatus reads only the
// provider's status and its normalised status, and reconciliation
// refreshes only when they moved. Without it, every pass over an undecided
// verification downloaded all its files again, to throw them away.
type StatusPeeker interface {
	PeekStatus(ctx context.Context, reference, providerRef string) (providerStatus string, status Status, err error)
}

// InboundVerifier checks an inbound webhook/callback's authenticity from its
// headers and raw body, before anything is parsed or stored as trusted.
type InboundVerifier interface {
	VerifyInbound(h http.Header, body []byte, now time.Time) (Delivery, error)
}

// Errors an InboundVerifier returns; the edge maps them to status codes
// (ErrBadSignature -> 401, ErrExpired -> 401, ErrMalformed -> 400).
var (
	ErrBadSignature = errors.New("signature invalid or missing")
	ErrExpired      = errors.New("deadline passed")
	ErrMalformed    = errors.New("malformed body")
)

// APIError is a documented error returned by a provider's API, kept with
// its code so staff see exactly what the provider said.
type APIError struct {
	Provider   Name
	Call       string
	HTTPStatus int
	Code       string
	Message    string
}

func (e *APIError) Error() string {
	msg := string(e.Provider) + ": " + e.Call + ": "
	if e.Code != "" {
		msg += e.Code + ": "
	}
	if e.Message != "" {
		return msg + e.Message
	}
	return msg + http.StatusText(e.HTTPStatus)
}

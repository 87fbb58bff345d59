package providers

import "time"

// Mode says whether a provider talks to the real service or to its
// simulator.
type Mode string

// Provider modes.
const (
	Live    Mode = "live"
	Sandbox Mode = "sandbox"
)

// Endpoint is one of our URLs a provider (or wallet) calls, to be
// registered with the provider.
type Endpoint struct {
	Purpose string // e.g. "status callback", "webhook (connection_deleted)"
	URL     string
}

// Adapter is one configured provider as the rest of the app sees it. Any of
// the interfaces may be nil where the provider's contract has no such step
// (SelfKey wallets call us; nobody starts them).
type Adapter struct {
	Name      Name
	Mode      Mode
	BaseURL   string
	Present   map[string]bool // which credentials are set (never their values)
	Endpoints []Endpoint
	Notes     []string // operator-facing remarks (e.g. unspecified protocol parts)
	// CallbackPath and StatusCallbackPath are our paths the provider is
	// told at each start to call back (CorePass); empty where the webhook
	// URL is registered with the provider once, out of band.
	CallbackPath, StatusCallbackPath string
	// StartTTL is how long a started link or QR should stay valid (0 =
	// the provider's default).
	StartTTL  time.Duration
	Starter   Starter
	Refresher Refresher
	Verifier  InboundVerifier
}

// Registry holds the configured adapters; it is built explicitly in cmd.
type Registry struct {
	adapters map[Name]*Adapter
}

// NewRegistry builds a registry from adapters.
func NewRegistry(adapters ...*Adapter) *Registry {
	r := &Registry{adapters: map[Name]*Adapter{}}
	for _, a := range adapters {
		r.adapters[a.Name] = a
	}
	return r
}

// Get returns the adapter of a provider.
func (r *Registry) Get(n Name) (*Adapter, bool) {
	a, ok := r.adapters[n]
	return a, ok
}

// All returns the configured adapters in display order.
func (r *Registry) All() []*Adapter {
	var out []*Adapter
	for _, n := range All {
		if a, ok := r.adapters[n]; ok {
			out = append(out, a)
		}
	}
	return out
}

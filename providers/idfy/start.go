package idfy

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kycdesk/kycdesk/providers"
)

// Start parameters (providers.StartRequest.Params) the adapter reads:
//
//	text.<attr>   a text resource, data[<attr>]; a value that is a JSON
//	              object ({"first_name": ...}) is sent as that object
//	image.<type>  an image resource (a signed expiring URL or base64)
//	video.<type>  a video resource (likewise)
//	group_id, config_id, reference_profile_id   the create request's fields
//	exit_url      where the user goes on cancel (default: the return URL)
//
// Any other key is refused, so a typo does not silently drop an input.
const (
	ParamTextPrefix         = "text."
	ParamImagePrefix        = "image."
	ParamVideoPrefix        = "video."
	ParamGroupID            = "group_id"
	ParamConfigID           = "config_id"
	ParamReferenceProfileID = "reference_profile_id"
	ParamExitURL            = "exit_url"
)

// DefaultLinkTTL is how long a capture link is offered when IDfy gives no
// capture_expires_at and the request no TTL.
const DefaultLinkTTL = 24 * time.Hour

// Start creates a profile for req.Reference (our IDfy-specific reference,
// never our internal id) and returns the capture link with redirect_uri
// (req.ReturnURL, else Config.ReturnBaseURL) and exit_url appended.
// Started.ExpiresAt is IDfy's capture_expires_at, shortened to req.TTL when
// that is sooner.
func (c *Client) Start(ctx context.Context, req providers.StartRequest) (providers.Started, error) {
	creq, exitURL, err := startRequest(req)
	if err != nil {
		return providers.Started{}, err
	}
	returnURL := req.ReturnURL
	if returnURL == "" {
		returnURL = c.cfg.ReturnBaseURL
	}
	if exitURL == "" {
		exitURL = returnURL
	}
	// Check the return URLs before creating anything at IDfy.
	if err := checkReturn("redirect_uri", returnURL); err != nil {
		return providers.Started{}, fmt.Errorf("idfy: start: %w", err)
	}
	if err := checkReturn("exit_url", exitURL); err != nil {
		return providers.Started{}, fmt.Errorf("idfy: start: %w", err)
	}
	created, err := c.CreateProfile(ctx, creq)
	if err != nil {
		return providers.Started{}, err
	}
	now := c.now()
	var notes []string
	if created.Async {
		notes = append(notes, fmt.Sprintf("created with IDfy's asynchronous API (%d resources)", len(creq.Resources)))
	}
	if created.CaptureLink == "" {
		// The async reply shape is NOT PUBLIC: if it carries no link yet,
		// the profile may.
		p, err := c.GetProfile(ctx, created.ProfileID)
		if err != nil {
			return providers.Started{}, err
		}
		created.CaptureLink, created.CaptureExpiresAt = p.CaptureLink, p.CaptureExpiresAt
		if created.Status == "" {
			created.Status = p.Status
		}
	}
	if created.CaptureLink == "" {
		return providers.Started{}, fmt.Errorf("idfy: start: profile created but IDfy returned no capture link yet")
	}
	expires := created.CaptureExpiresAt
	ttl := req.TTL
	if ttl <= 0 && expires.IsZero() {
		ttl = DefaultLinkTTL
	}
	if limit := now.Add(ttl); ttl > 0 && (expires.IsZero() || limit.Before(expires)) {
		expires = limit
	}
	link, err := CaptureLink(created.CaptureLink, returnURL, exitURL, expires, now)
	if err != nil {
		return providers.Started{}, fmt.Errorf("idfy: start: %w", err)
	}
	status := created.Status
	if status == "" {
		status = StatusCapturePending
	}
	return providers.Started{
		ProviderRef:    created.ProfileID,
		Link:           link,
		ExpiresAt:      expires,
		ProviderStatus: status,
		Status:         Decide(status, ""),
		Notes:          notes,
	}, nil
}

// startRequest turns a StartRequest into a create request (see the Param
// constants) and the requested exit_url.
func startRequest(req providers.StartRequest) (CreateProfileRequest, string, error) {
	if strings.TrimSpace(req.Reference) == "" {
		return CreateProfileRequest{}, "", fmt.Errorf("idfy: start: empty reference")
	}
	creq := CreateProfileRequest{ReferenceID: req.Reference}
	keys := make([]string, 0, len(req.Params))
	for k := range req.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys) // a stable resource order, whatever the map order
	var exitURL string
	for _, k := range keys {
		v := req.Params[k]
		var kind ResourceKind
		var name string
		switch {
		case k == ParamGroupID:
			creq.GroupID = v
			continue
		case k == ParamConfigID:
			creq.ConfigID = v
			continue
		case k == ParamReferenceProfileID:
			creq.ReferenceProfileID = v
			continue
		case k == ParamExitURL:
			exitURL = v
			continue
		case strings.HasPrefix(k, ParamTextPrefix):
			kind, name = ResourceText, strings.TrimPrefix(k, ParamTextPrefix)
		case strings.HasPrefix(k, ParamImagePrefix):
			kind, name = ResourceImage, strings.TrimPrefix(k, ParamImagePrefix)
		case strings.HasPrefix(k, ParamVideoPrefix):
			kind, name = ResourceVideo, strings.TrimPrefix(k, ParamVideoPrefix)
		default:
			return CreateProfileRequest{}, "", fmt.Errorf("idfy: start: unknown parameter %s", strconv.Quote(k))
		}
		if name == "" {
			return CreateProfileRequest{}, "", fmt.Errorf("idfy: start: parameter %s names no resource", strconv.Quote(k))
		}
		var value any = v
		if kind == ResourceText && strings.HasPrefix(strings.TrimSpace(v), "{") && json.Valid([]byte(v)) {
			value = json.RawMessage(v)
		}
		creq.Resources = append(creq.Resources, Resource{Kind: kind, Name: name, Value: value})
	}
	return creq, exitURL, nil
}

// Refresh fetches the profile (providerRef is IDfy's profile id; there is no
// public lookup by reference_id) and returns it as an Update: the verbatim
// status (see ProviderStatus), the normalised one, the text resources as
// attributes, and the report and images downloaded into Documents right
// away, because their URLs expire. A failed download fails the refresh:
// retrying re-fetches the profile with fresh URLs.
func (c *Client) Refresh(ctx context.Context, reference, providerRef string) (providers.Update, error) {
	if providerRef == "" {
		return providers.Update{}, fmt.Errorf("idfy: refresh: no profile id for this verification")
	}
	p, err := c.GetProfile(ctx, providerRef)
	if err != nil {
		return providers.Update{}, err
	}
	if reference != "" && p.ReferenceID != "" && p.ReferenceID != reference {
		return providers.Update{}, fmt.Errorf("idfy: refresh: the profile belongs to another reference")
	}
	u, err := c.UpdateFrom(ctx, p)
	if err != nil {
		return providers.Update{}, err
	}
	if u.Reference == "" {
		u.Reference = reference
	}
	return u, nil
}

// PeekStatus implements providers.StatusPeeker: the profile's status
// without downloading its resources.
func (c *Client) PeekStatus(ctx context.Context, reference, providerRef string) (string, providers.Status, error) {
	if providerRef == "" {
		return "", "", fmt.Errorf("idfy: peek: no profile id for this verification")
	}
	p, err := c.GetProfile(ctx, providerRef)
	if err != nil {
		return "", "", err
	}
	if reference != "" && p.ReferenceID != "" && p.ReferenceID != reference {
		return "", "", fmt.Errorf("idfy: peek: the profile belongs to another reference")
	}
	return ProviderStatus(p.Status, p.ReviewerAction), Decide(p.Status, p.ReviewerAction), nil
}

// UpdateFrom turns a fetched profile into an Update, downloading its
// documents (see Documents).
func (c *Client) UpdateFrom(ctx context.Context, p Profile) (providers.Update, error) {
	u := providers.Update{
		Reference:      p.ReferenceID,
		ProviderRef:    p.ProfileID,
		Event:          EventProfileFetched,
		ProviderStatus: ProviderStatus(p.Status, p.ReviewerAction),
		Status:         Decide(p.Status, p.ReviewerAction),
		Reason:         p.Comments,
		At:             c.now(),
		Attributes:     Attributes(p),
	}
	if p.ReviewerAction != "" {
		u.Certificates = append(u.Certificates, providers.Certificate{Name: "reviewer_action", Value: p.ReviewerAction})
	}
	if !p.CompletedAt.IsZero() {
		u.Certificates = append(u.Certificates, providers.Certificate{Name: "completed_at", Value: p.CompletedAt.Format(time.RFC3339)})
	}
	docs, err := c.Documents(ctx, p)
	if err != nil {
		return providers.Update{}, err
	}
	u.Documents = docs
	return u, nil
}

// EventProfileFetched is the Update.Event of a Refresh: the state came from
// GET /profiles/{id}, not from a webhook body.
const EventProfileFetched = "profile_fetched"

// Attributes maps a profile's text resources to attributes, named by
// meaning where the attr is known (name -> full_name, dob ->
// date_of_birth); a name object {"first_name", "middle_name", "last_name"}
// becomes one full name.
func Attributes(p Profile) []providers.Attribute {
	var out []providers.Attribute
	for _, t := range p.Resources.Text {
		if t.Type == "" || t.Value == "" {
			continue
		}
		a := providers.Attribute{Meaning: meaning(t.Type), Name: t.Type, Value: t.Value}
		if strings.HasPrefix(t.Value, "{") {
			var n struct {
				First  string `json:"first_name"`
				Middle string `json:"middle_name"`
				Last   string `json:"last_name"`
			}
			if json.Unmarshal([]byte(t.Value), &n) == nil && n.First+n.Middle+n.Last != "" {
				a.Value = strings.Join(strings.Fields(n.First+" "+n.Middle+" "+n.Last), " ")
			}
		}
		out = append(out, a)
	}
	return out
}

func meaning(attr string) string {
	switch strings.ToLower(attr) {
	case "name", "full_name":
		return "full_name"
	case "dob", "date_of_birth":
		return "date_of_birth"
	case "address":
		return "address"
	case "gender":
		return "gender"
	case "email":
		return "email"
	case "mobile", "mobile_number", "phone":
		return "phone"
	}
	return attr
}

package sim

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/kycdesk/kycdesk/providers/corepass"
	qrcode "github.com/skip2/go-qrcode"
)

// The documented 400 bodies (plain text, verbatim from the CorePass
// document).
const (
	msgInvalidExpiration = "expiration time is invalid, it should be unix time in seconds and between 5-15 minutes"
	msgNotVerified       = "user does not have the requested items verified"
	msgOngoing           = "there is an ongoing request for this user and items"
)

// Undocumented replies (inferred): a bad body or user, and no transfer.
const (
	msgBadRequest = "invalid request body"
	msgBadUser    = "invalid user core id"
	msgNoItems    = "items are required"
	msgNoCallback = "callback and statusCallback are required"
	msgNotFound   = "no request found for this user and items"
)

type userItemsRequest struct {
	User  string   `json:"user"`
	Items []string `json:"items"`
}

// decode reads a JSON request body into dst and normalises the Core ID
// *user; on a problem it has already written the 400.
func decode(w http.ResponseWriter, r *http.Request, dst any, user *string) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(body, dst) != nil {
		text(w, http.StatusBadRequest, msgBadRequest)
		return false
	}
	id, err := corepass.NormalizeCoreID(*user)
	if err != nil {
		text(w, http.StatusBadRequest, msgBadUser)
		return false
	}
	*user = id
	return true
}

func (s *Server) handleVerified(w http.ResponseWriter, r *http.Request) {
	var req userItemsRequest
	if !decode(w, r, &req, &req.User) {
		return
	}
	profile := s.profile(req.User)
	var out struct {
		Verified   []string `json:"verifiedItems,omitempty"`
		Unverified []string `json:"unVerifiedItems,omitempty"`
	}
	for _, it := range req.Items {
		if profile.Verified(it) {
			out.Verified = append(out.Verified, it)
		} else {
			out.Unverified = append(out.Unverified, it)
		}
	}
	writeJSON(w, out)
}

type qrRequest struct {
	User           string   `json:"user"`
	Items          []string `json:"items"`
	Callback       string   `json:"callback"`
	StatusCallback string   `json:"statusCallback"`
	Expiration     int64    `json:"expiration"`
	WithoutQRCode  bool     `json:"withoutQRCode"`
}

type qrResponse struct {
	QRCode      string `json:"qrcode,omitempty"`
	Link        string `json:"link"`
	Expiration  int64  `json:"expiration"`
	AlreadySent bool   `json:"alreadySent,omitempty"`
}

func (s *Server) handleQRCode(w http.ResponseWriter, r *http.Request) {
	var req qrRequest
	if !decode(w, r, &req, &req.User) {
		return
	}
	switch {
	case len(req.Items) == 0:
		text(w, http.StatusBadRequest, msgNoItems)
		return
	case req.Callback == "" || req.StatusCallback == "":
		text(w, http.StatusBadRequest, msgNoCallback)
		return
	}
	now := s.cfg.Now()
	if ahead := time.Unix(req.Expiration, 0).Sub(now); ahead < 5*time.Minute || ahead > 15*time.Minute {
		text(w, http.StatusBadRequest, msgInvalidExpiration)
		return
	}
	profile := s.profile(req.User)
	for _, it := range req.Items {
		if !profile.Verified(it) {
			text(w, http.StatusBadRequest, msgNotVerified)
			return
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.latestLocked(req.User, req.Items); t != nil {
		switch {
		case t.ongoing():
			text(w, http.StatusBadRequest, msgOngoing)
			return
		case t.open(now):
			out := qrResponse{Link: t.Link, Expiration: t.Expiration.Unix(), AlreadySent: true}
			if !req.WithoutQRCode {
				out.QRCode = base64.StdEncoding.EncodeToString(t.qrPNG)
			}
			writeJSON(w, out)
			return
		}
	}

	id, err := s.randomHex(16)
	if err != nil {
		text(w, http.StatusInternalServerError, "internal error")
		return
	}
	t := &transfer{
		Transfer: Transfer{
			ID: id, User: req.User, Items: dedupe(req.Items),
			Callback: req.Callback, StatusCallback: req.StatusCallback,
			Expiration: time.Unix(req.Expiration, 0).UTC(), Link: s.TransferURL(id),
			Statuses: []StatusEntry{{Status: corepass.StatusPending, CreatedAt: now.UTC()}},
		},
		created: now,
	}
	if t.qrPNG, err = qrcode.Encode(t.Link, qrcode.Medium, 256); err != nil {
		text(w, http.StatusInternalServerError, "internal error")
		return
	}
	s.transfers[id] = t
	s.order = append(s.order, id)

	out := qrResponse{Link: t.Link, Expiration: req.Expiration}
	if !req.WithoutQRCode {
		out.QRCode = base64.StdEncoding.EncodeToString(t.qrPNG)
	}
	writeJSON(w, out)
}

type statusJSON struct {
	Status    string `json:"status"`
	CreatedAt int64  `json:"created_at"`
	TxHash    string `json:"tx_hash,omitempty"`
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	var req userItemsRequest
	if !decode(w, r, &req, &req.User) {
		return
	}
	s.mu.Lock()
	t := s.latestLocked(req.User, req.Items)
	var last StatusEntry
	if t != nil {
		last = t.Statuses[len(t.Statuses)-1]
	}
	s.mu.Unlock()
	if t == nil {
		text(w, http.StatusNotFound, msgNotFound)
		return
	}
	writeJSON(w, statusJSON{Status: last.Status, CreatedAt: last.CreatedAt.Unix(), TxHash: last.TxHash})
}

func (s *Server) handleAllStatuses(w http.ResponseWriter, r *http.Request) {
	var req userItemsRequest
	if !decode(w, r, &req, &req.User) {
		return
	}
	key := itemsKey(req.User, req.Items)
	monthAgo := s.cfg.Now().AddDate(0, -1, 0)
	out := struct {
		AllStatuses []statusJSON `json:"AllStatuses"`
	}{AllStatuses: []statusJSON{}}
	s.mu.Lock()
	for i := len(s.order) - 1; i >= 0; i-- { // newest transfer first
		t := s.transfers[s.order[i]]
		if itemsKey(t.User, t.Items) != key || !t.created.After(monthAgo) {
			continue
		}
		for j := len(t.Statuses) - 1; j >= 0; j-- { // newest status first
			e := t.Statuses[j]
			out.AllStatuses = append(out.AllStatuses, statusJSON{Status: e.Status, CreatedAt: e.CreatedAt.Unix(), TxHash: e.TxHash})
		}
	}
	s.mu.Unlock()
	writeJSON(w, out)
}

func text(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func dedupe(items []string) []string {
	var out []string
	for _, it := range items {
		if !slices.Contains(out, it) {
			out = append(out, it)
		}
	}
	return out
}

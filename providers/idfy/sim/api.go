package sim

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds a create request (base64 images included).
const maxBody = 16 << 20

// writeError answers with the error envelope the simulator uses:
// {"error": CODE, "message": text}. IDfy's own envelope is NOT PUBLIC.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error": code, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// api wraps an API handler with the injected failures and the credential
// check (api-key and account-id headers).
func (s *Server) api(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		fail := 0
		if len(s.failNext) > 0 {
			fail, s.failNext = s.failNext[0], s.failNext[1:]
		}
		s.mu.Unlock()
		if fail == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
			writeError(w, fail, "TOO_MANY_REQUESTS", "rate limit exceeded")
			return
		}
		if fail != 0 {
			writeError(w, fail, "INTERNAL_SERVER_ERROR", "simulated failure")
			return
		}
		if !credentialOK(r.Header.Get("api-key"), s.cfg.APIKey) || !credentialOK(r.Header.Get("account-id"), s.cfg.AccountID) {
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "invalid api-key or account-id")
			return
		}
		next(w, r)
	}
}

func credentialOK(got, want string) bool {
	if got == "" {
		return false
	}
	return want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

type createRequest struct {
	ReferenceID string `json:"reference_id"`
	GroupID     string `json:"group_id"`
	Config      struct {
		ID string `json:"id"`
	} `json:"config"`
	Data             json.RawMessage `json:"data"`
	Payload          json.RawMessage `json:"payload"`
	EncryptedData    *string         `json:"encrypted_data"`
	EncryptedPayload *string         `json:"encrypted_payload"`
}

type createReply struct {
	ProfileID        string `json:"profile_id"`
	CaptureLink      string `json:"capture_link"`
	CaptureExpiresAt string `json:"capture_expires_at"`
	Status           string `json:"status"`
}

// create serves the four create calls. The async reply is NOT PUBLIC: the
// simulator answers 202 with the same fields as the sync 200.
func (s *Server) create(async, encrypted bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if encrypted && len(s.cfg.Key) == 0 {
			writeError(w, http.StatusForbidden, "FORBIDDEN", "the encrypted flow is not enabled for this account")
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(raw) > maxBody {
			writeError(w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "request body too large")
			return
		}
		var req createRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "request body is not valid JSON")
			return
		}
		data := req.Data
		if encrypted {
			if req.EncryptedData == nil || len(req.Data) > 0 || len(req.Payload) > 0 {
				writeError(w, http.StatusBadRequest, "BAD_REQUEST", "send encrypted_data and encrypted_payload instead of data and payload")
				return
			}
			plain, err := s.open(*req.EncryptedData)
			if err != nil {
				writeError(w, http.StatusBadRequest, "DECRYPTION_FAILED", "encrypted_data could not be decrypted")
				return
			}
			data = plain
			if req.EncryptedPayload != nil && *req.EncryptedPayload != "" {
				if _, err := s.open(*req.EncryptedPayload); err != nil {
					writeError(w, http.StatusBadRequest, "DECRYPTION_FAILED", "encrypted_payload could not be decrypted")
					return
				}
			}
		} else if req.EncryptedData != nil {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "encrypted_data is accepted on the encrypted endpoints only")
			return
		}
		var fields map[string]json.RawMessage
		if len(data) > 0 && string(data) != "null" {
			if err := json.Unmarshal(data, &fields); err != nil {
				writeError(w, http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", "data must be an object")
				return
			}
		}
		switch {
		case strings.TrimSpace(req.ReferenceID) == "":
			writeError(w, http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", "reference_id is required")
			return
		case strings.TrimSpace(req.Config.ID) == "":
			writeError(w, http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", "config.id is required")
			return
		case !async && len(fields) > MaxSyncResources:
			writeError(w, http.StatusUnprocessableEntity, "TOO_MANY_RESOURCES",
				"more than "+strconv.Itoa(MaxSyncResources)+" resources: use the asynchronous create")
			return
		}
		now := s.cfg.Now().UTC()
		s.mu.Lock()
		if _, dup := s.byRef[req.ReferenceID]; dup {
			s.mu.Unlock()
			writeError(w, http.StatusConflict, "DUPLICATE_REFERENCE_ID", "a profile with this reference_id exists")
			return
		}
		p := &profile{
			id: s.newUUID(), ref: req.ReferenceID, groupID: req.GroupID, configID: req.Config.ID,
			status: StatusCapturePending, token: s.randomHex(16), createdAt: now,
			captureExpires: now.Add(s.cfg.CaptureTTL), async: async, encrypted: encrypted, resources: len(fields),
		}
		p.text, p.inputs = splitInputs(fields)
		s.profiles[p.id] = p
		s.byRef[p.ref] = p.id
		s.order = append(s.order, p.id)
		reply := createReply{
			ProfileID:        p.id,
			CaptureLink:      s.captureLink(s.publicURL(r), p),
			CaptureExpiresAt: p.captureExpires.Format("2006-01-02T15:04:05.000Z"),
			Status:           p.status,
		}
		s.mu.Unlock()
		status := http.StatusOK
		if async {
			status = http.StatusAccepted
		}
		writeJSON(w, status, reply)
	}
}

// splitInputs sorts the create request's data into text resources and
// media sent as base64 (kept as downloadable images). URLs are not fetched.
func splitInputs(fields map[string]json.RawMessage) ([]textItem, []file) {
	var text []textItem
	var media []file
	for _, name := range sortedKeys(fields) {
		raw := fields[name]
		var str string
		if json.Unmarshal(raw, &str) == nil && looksLikeMedia(str) {
			if b, err := base64.StdEncoding.DecodeString(str); err == nil && len(b) > 0 {
				media = append(media, file{kind: "image", typ: name, contentType: http.DetectContentType(b), data: b})
			}
			continue
		}
		text = append(text, textItem{attr: name, value: raw})
	}
	return text, media
}

func looksLikeMedia(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") || len(s) > 256
}

type resourceJSON struct {
	Type  string          `json:"type,omitempty"`
	Attr  string          `json:"attr,omitempty"`
	Value json.RawMessage `json:"value"`
}

// getProfile serves GET /profiles/{id}: the Get Profile object with
// resource URLs valid for ResourceTTL. In encrypted mode everything but the
// identifying fields travels in encrypted_data.
func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	p, ok := s.profiles[id]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "NOT_FOUND", "profile not found")
		return
	}
	s.expireIfDue(p)
	public := s.publicURL(r)
	ids := map[string]any{
		"profile_id":      p.id,
		"reference_id":    p.ref,
		"status":          p.status,
		"reviewer_action": reviewerAction(p),
	}
	details := map[string]any{
		"status_description": map[string]any{"comments": p.comments},
		"status_detail":      p.status,
		"capture_link":       s.captureLink(public, p),
		"capture_expires_at": p.captureExpires.Format("2006-01-02T15:04:05.000Z"),
		"tasks":              []any{},
		"device_info":        map[string]any{},
		"profile_data":       map[string]any{"completed_at": nil, "performed_by": nil},
		"resources":          s.resourcesJSON(public, p),
	}
	if !p.completedAt.IsZero() {
		details["profile_data"] = map[string]any{"completed_at": p.completedAt.Format("2006-01-02T15:04:05.000Z"), "performed_by": "sim-agent-1"}
	}
	s.mu.Unlock()
	if len(s.cfg.Key) == 0 {
		for k, v := range details {
			ids[k] = v
		}
		writeJSON(w, http.StatusOK, ids)
		return
	}
	sealed, err := s.sealJSON(details)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "could not encrypt the profile")
		return
	}
	ids["encrypted_data"] = sealed
	writeJSON(w, http.StatusOK, ids)
}

// resourcesJSON lists a profile's resources. Text is shown once the capture
// is done; files carry signed URLs that expire. Call with the lock held.
func (s *Server) resourcesJSON(public string, p *profile) map[string][]resourceJSON {
	out := map[string][]resourceJSON{"documents": {}, "images": {}, "videos": {}, "text": {}}
	if p.status != StatusCompleted {
		return out
	}
	for _, t := range p.text {
		out["text"] = append(out["text"], resourceJSON{Attr: t.attr, Value: t.value})
	}
	expires := s.cfg.Now().Add(s.cfg.ResourceTTL)
	for _, f := range append(append([]file(nil), p.files...), p.inputs...) {
		u, _ := json.Marshal(s.resourceURL(public, p.id, f.kind, f.typ, expires))
		switch f.kind {
		case "document":
			out["documents"] = append(out["documents"], resourceJSON{Type: f.typ, Value: u})
		case "image":
			out["images"] = append(out["images"], resourceJSON{Type: f.typ, Value: u})
		case "video":
			out["videos"] = append(out["videos"], resourceJSON{Attr: f.typ, Value: u})
		}
	}
	return out
}

// download serves a resource URL: 403 when the signature is wrong or the URL
// has expired (as a signed cloud-storage URL does), 404 when the resource is
// gone (purged).
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	id, kind, typ := r.PathValue("id"), r.PathValue("kind"), r.PathValue("type")
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if err != nil || !s.validSignature(id, kind, typ, exp, q.Get("Signature")) {
		http.Error(w, "SignatureDoesNotMatch", http.StatusForbidden)
		return
	}
	if !s.cfg.Now().Before(time.Unix(exp, 0)) {
		http.Error(w, "Request has expired", http.StatusForbidden)
		return
	}
	s.mu.Lock()
	var found *file
	if p, ok := s.profiles[id]; ok && p.status == StatusCompleted {
		for _, f := range append(append([]file(nil), p.files...), p.inputs...) {
			if f.kind == kind && f.typ == typ {
				f := f
				found = &f
				break
			}
		}
	}
	s.mu.Unlock()
	if found == nil {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", found.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(found.data)))
	_, _ = w.Write(found.data)
}

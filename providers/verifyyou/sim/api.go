package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The seed's paths, relative to the simulator's root.
const (
	PathRegister              = "/v1/business_connect_user/register"
	PathCheckConnectionStatus = "/v1/business_connect_user/check_connection_status"
	PathCheckForUpdates       = "/v1/business_connect_user/check_for_updates"
)

// Failure codes the simulator answers with. Only DOES_NOT_EXIST is in the
// seed; the others are the public v1/v2 names for the same situations.
const (
	CodeDoesNotExist       = "DOES_NOT_EXIST"
	CodeInvalidRequest     = "INVALID_REQUEST"
	CodeInvalidAPIKey      = "INVALID_API_KEY"
	CodeMethodNotAllowed   = "METHOD_NOT_ALLOWED"
	CodeServiceUnavailable = "SERVICE_TEMPORARILY_UNAVAILABLE"
)

const maxRequestBytes = 64 << 10
const maxIDLen = 256

// apiError is a failure envelope to send.
type apiError struct {
	status int
	code   string
	reason string
}

func invalid(reason string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: CodeInvalidRequest, reason: reason}
}

// api wraps an endpoint with what every call shares: POST only, the
// maintenance switch, the API key, reading a JSON object body, and the
// success/failure envelopes.
func (s *Server) api(h func(body map[string]json.RawMessage) (map[string]any, *apiError)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeFailure(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use POST")
			return
		}
		s.mu.Lock()
		down := s.maintenance
		s.mu.Unlock()
		if down {
			writeFailure(w, http.StatusServiceUnavailable, CodeServiceUnavailable, "Service is temporarily unavailable for maintenance. Please try again later.")
			return
		}
		key := r.Header.Get("API-KEY")
		if key == "" || (s.cfg.APIKey != "" && key != s.cfg.APIKey) {
			writeFailure(w, http.StatusUnauthorized, CodeInvalidAPIKey, "missing or invalid API-KEY header")
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
		if err != nil || len(raw) > maxRequestBytes {
			writeFailure(w, http.StatusBadRequest, CodeInvalidRequest, "request body unreadable or too large")
			return
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(raw, &body); err != nil || body == nil {
			writeFailure(w, http.StatusBadRequest, CodeInvalidRequest, "request body must be a JSON object")
			return
		}
		out, aerr := h(body)
		if aerr != nil {
			writeFailure(w, aerr.status, aerr.code, aerr.reason)
			return
		}
		out["status"] = "success"
		writeJSON(w, http.StatusOK, out)
	}
}

// register: {"reference_id"} (the v1 spelling reference_user_id is
// accepted too). An existing reference gets its latest state back.
func (s *Server) register(body map[string]json.RawMessage) (map[string]any, *apiError) {
	ref, aerr := idField(body, "reference_id", "reference_user_id")
	if aerr != nil {
		return nil, aerr
	}
	if ref == "" {
		return nil, invalid("Missing required field: reference_id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.registerLocked(ref)
	if err != nil {
		return nil, &apiError{status: http.StatusInternalServerError, code: "INTERNAL_ERROR", reason: "could not create the user"}
	}
	return map[string]any{
		"unique_id":           u.UniqueID,
		"invite_id":           u.InviteID,
		"invite_url":          s.InviteURL(u.UniqueID),
		"connection_verified": u.Connected,
	}, nil
}

// checkConnectionStatus: {"reference_id"} or {"unique_id"}; both must name
// the same user when both are sent.
func (s *Server) checkConnectionStatus(body map[string]json.RawMessage) (map[string]any, *apiError) {
	ref, aerr := idField(body, "reference_id", "reference_user_id")
	if aerr != nil {
		return nil, aerr
	}
	uid, aerr := idField(body, "unique_id")
	if aerr != nil {
		return nil, aerr
	}
	if ref == "" && uid == "" {
		return nil, invalid("Missing required field: reference_id or unique_id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ref != "" {
		byRef, ok := s.byRef[ref]
		switch {
		case !ok:
			uid = ""
		case uid != "" && uid != byRef:
			return nil, invalid("reference_id and unique_id name different users")
		default:
			uid = byRef
		}
	}
	u, ok := s.users[uid]
	if !ok {
		return nil, &apiError{status: http.StatusNotFound, code: CodeDoesNotExist, reason: "No business connect user with this id"}
	}
	return map[string]any{
		"unique_id":             u.UniqueID,
		"has_connection":        u.Connected,
		"data_request_response": u.Data,
	}, nil
}

// checkForUpdates: {"last_refresh_timestamp_s": n} (a number or a numeric
// string, since the seed shows "integer" in quotes). It answers the
// reference_ids whose connection changed in the half-open window
// [n, timestamp_s), timestamp_s being the current second, each once in
// order of first change. A change in the current second is left for the
// next poll, so consecutive polls that pass the returned timestamp_s back
// see every change exactly once.
func (s *Server) checkForUpdates(body map[string]json.RawMessage) (map[string]any, *apiError) {
	raw, ok := body["last_refresh_timestamp_s"]
	if !ok {
		return nil, invalid("Missing required field: last_refresh_timestamp_s")
	}
	text := strings.TrimSpace(string(raw))
	if unq, err := strconv.Unquote(text); err == nil {
		text = unq
	}
	since, err := strconv.ParseInt(text, 10, 64)
	if err != nil || since < 0 {
		return nil, invalid("last_refresh_timestamp_s must be a non-negative integer")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now().Unix()
	names := []string{}
	seen := map[string]bool{}
	for _, c := range s.changes {
		at := c.at.Unix()
		if at < since || at >= now || seen[c.referenceID] {
			continue
		}
		seen[c.referenceID] = true
		names = append(names, c.referenceID)
	}
	return map[string]any{"connections_to_update": names, "timestamp_s": now}, nil
}

// idField reads the first of names that is present as a string.
func idField(body map[string]json.RawMessage, names ...string) (string, *apiError) {
	for _, n := range names {
		raw, ok := body[n]
		if !ok || string(raw) == "null" {
			continue
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", invalid(n + " must be a string")
		}
		if len(v) > maxIDLen || !utf8.ValidString(v) {
			return "", invalid(n + " is too long or not UTF-8")
		}
		if strings.TrimSpace(v) == "" {
			return "", invalid(n + " is blank")
		}
		return v, nil
	}
	return "", nil
}

func writeFailure(w http.ResponseWriter, status int, code, reason string) {
	writeJSON(w, status, map[string]any{"status": "failure", "failure_code": code, "failure_reason": reason})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

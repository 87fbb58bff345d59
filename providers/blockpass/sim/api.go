package sim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// apiHandler is an API handler that returns the HTTP status and the value
// for the envelope's data (or an error message).
type apiHandler func(r *http.Request) (int, any)

// api wraps an API handler with what every Dashboard API call goes
// through: the rate limit, the Authorization check, the client id, the
// {"status","data"} envelope and optional response encryption.
func (s *Server) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.rateLimit() {
			w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter.Seconds())))
			writeJSON(w, http.StatusTooManyRequests, map[string]any{
				"status": "error", "message": "Too many requests",
				"extra": map[string]any{"retryAfter": int(s.cfg.RetryAfter.Seconds())},
			})
			return
		}
		auth := r.Header.Get("Authorization")
		if auth == "" || (s.cfg.APIKey != "" && auth != s.cfg.APIKey) {
			writeJSON(w, http.StatusUnauthorized, errorBody("Unauthorized"))
			return
		}
		if r.PathValue("clientId") != s.cfg.ClientID {
			writeJSON(w, http.StatusNotFound, errorBody("Service not found"))
			return
		}
		key, err := s.responseKey(r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody(err.Error()))
			return
		}
		status, data := h(r)
		if msg, ok := data.(string); ok && status >= 300 {
			writeJSON(w, status, errorBody(msg))
			return
		}
		body, err := json.Marshal(map[string]any{"status": "success", "data": data})
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, errorBody("encode"))
			return
		}
		if key != nil {
			if body, err = s.encryptResponse(key, body); err != nil {
				writeJSON(w, http.StatusInternalServerError, errorBody("encrypt response"))
				return
			}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// rateLimit counts an API request and reports whether it gets a 429.
func (s *Server) rateLimit() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiCalls++
	switch {
	case s.rateLimited:
		return true
	case s.rateLimitNext > 0:
		s.rateLimitNext--
		return true
	case s.cfg.RateLimitEvery > 0 && s.apiCalls%s.cfg.RateLimitEvery == 0:
		return true
	}
	return false
}

func errorBody(msg string) map[string]any { return map[string]any{"status": "error", "message": msg} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// listApplicants serves GET /applicants and /applicants/{status}.
func (s *Server) listApplicants(r *http.Request) (int, any) {
	status := r.PathValue("status")
	if status != "" && !validStatus(status) {
		return http.StatusBadRequest, "Invalid status"
	}
	skip, limit := 0, DefaultPageLimit
	q := r.URL.Query()
	if v := q.Get("skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return http.StatusBadRequest, "Invalid skip"
		}
		skip = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return http.StatusBadRequest, "Invalid limit"
		}
		limit = min(n, s.cfg.MaxLimit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	page, total := s.pageLocked(status, skip, limit)
	records := make([]wireRecord, 0, len(page))
	for _, rec := range page {
		records = append(records, rec.wire(now, false, s.cfg.Scope))
	}
	return http.StatusOK, map[string]any{"records": records, "total": total, "skip": skip, "limit": limit}
}

// getByRefID serves GET /refId/{refId}.
func (s *Server) getByRefID(r *http.Request) (int, any) {
	return s.fetch(r.PathValue("refId"), false)
}

// getByRecordID serves GET /recordId/{recordId}.
func (s *Server) getByRecordID(r *http.Request) (int, any) {
	return s.fetch(r.PathValue("recordId"), true)
}

// fetch returns one candidate in full. Returning identity data is an
// extract: with archive after extract on, the record gets its
// willArchiveAtDate the first time.
func (s *Server) fetch(id string, byRecord bool) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.lookupLocked(id, byRecord)
	if rec == nil {
		return http.StatusNotFound, "Not found"
	}
	now := s.cfg.Now()
	if s.cfg.ArchiveAfter > 0 && s.cfg.Scope != ScopeMetadata && !rec.archivedAt(now) && rec.willArchiveAt.IsZero() {
		rec = s.materializeLocked(rec)
		rec.willArchiveAt = now.Add(s.cfg.ArchiveAfter)
	}
	return http.StatusOK, rec.wire(now, true, s.cfg.Scope)
}

package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	"github.com/kycdesk/kycdesk/providers/selfkey"
	"github.com/kycdesk/kycdesk/web"
)

// selfKeyHandler serves the endpoints SelfKey wallets call (/selfkey/*).
// The wallet authenticates with our JWTs and its signature over our nonce,
// never with a session or a CSRF token. Each handler parses the request with
// the selfkey protocol engine, calls its Service, stores what it returns,
// and answers JSON; every failure is the {"code","message"} body the wallet
// reads.
type selfKeyHandler struct{ *Handlers }

// Bounds of the small JSON bodies read whole.
const (
	maxChallengeAnswerBytes = 64 << 10
	maxLoginBytes           = 16 << 10
)

// selfKeyFileTTL is how long an upload waits for the request that names
// it; the wallet's token lives an hour.
const selfKeyFileTTL = 24 * time.Hour

// SelfKeySimPath is where the wallet simulator is mounted in sandbox mode.
const SelfKeySimPath = "/sandbox/selfkey"

// The statuses a wallet's submissions put a verification in, by their
// KYC-Chain names: data shared at login (UPLOADED: in progress) and an
// application (IN_PROGRESS at KYC-Chain: waiting for our review).
const (
	selfKeyUserStatus        = selfkey.StatusUploaded
	selfKeyApplicationStatus = selfkey.StatusInProgress
)

// errSelfKeyOff answers every wallet call when SelfKey is not configured.
var errSelfKeyOff = errors.New("selfkey: not configured")

// walletError is the status and body for err: the engine's own errors, and
// the store's refusals in the same vocabulary.
func walletError(err error) (int, selfkey.ErrorResponse) {
	switch {
	case errors.Is(err, errSelfKeyOff):
		return http.StatusNotFound, selfkey.ErrorResponse{Code: "not_found", Message: "SelfKey is not enabled on this server"}
	case errors.Is(err, db.ErrSelfKeyNoUser):
		return selfkey.ErrorBody(selfkey.ErrUserNotFound)
	case errors.Is(err, db.ErrSelfKeyFileUnknown):
		return http.StatusBadRequest, selfkey.ErrorResponse{Code: "invalid_attributes", Message: "A referenced file is unknown, already used or expired"}
	case errors.Is(err, db.ErrSelfKeyTooManyFiles):
		return http.StatusBadRequest, selfkey.ErrorResponse{Code: "file_invalid", Message: "Too many uploaded files are waiting for an application"}
	case errors.Is(err, db.ErrSelfKeyFileMislabelled):
		return http.StatusBadRequest, selfkey.ErrorResponse{Code: "file_invalid", Message: "File content does not match its declared type"}
	}
	return selfkey.ErrorBody(err)
}

// wallet runs one wallet call: SelfKey must be configured, the Origin
// allowed (except for /login, which the browser sends), and a failure is
// answered, and logged without tokens or personal data.
func (h *selfKeyHandler) wallet(c echo.Context, checkOrigin bool, call func(s *selfkey.Service) error) error {
	s := h.deps.SelfKey
	err := errSelfKeyOff
	if s != nil {
		err = nil
		if checkOrigin {
			err = s.CheckOrigin(c.Request().Header.Get("Origin"))
		}
		if err == nil {
			err = call(s)
		}
	}
	if err == nil {
		return nil
	}
	status, body := walletError(err)
	log := h.deps.Logger.With("request_id", web.RequestID(c), "path", c.Path(), "status", status, "code", body.Code)
	if status >= 500 {
		log.Error("selfkey call failed", "err", err)
	} else {
		log.Info("selfkey call refused", "err", err)
	}
	return c.JSON(status, body)
}

// client is what the request says about the wallet.
func selfKeyClient(c echo.Context) db.SelfKeyClient {
	return db.SelfKeyClient{UserAgent: c.Request().UserAgent(), Origin: c.Request().Header.Get("Origin")}
}

// challenge is GET /selfkey/auth/challenge/:did (the final wallet) and
// GET /selfkey/auth/challenge (the seed: the challenge is for the caller's
// address).
func (h *selfKeyHandler) challenge(c echo.Context) error {
	return h.wallet(c, true, func(s *selfkey.Service) error {
		subject := c.Param("did")
		if subject == "" {
			subject = web.ClientIP(c)
		} else if u, err := url.PathUnescape(subject); err == nil {
			subject = u
		}
		tok, err := s.Challenge(c.Request().Context(), subject)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, selfkey.TokenResponse{JWT: tok})
	})
}

// verify is POST /selfkey/auth/challenge: the signed challenge for a
// wallet token. The wallet and its headers are recorded.
func (h *selfKeyHandler) verify(c echo.Context) error {
	return h.wallet(c, true, func(s *selfkey.Service) error {
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxChallengeAnswerBytes+1))
		if err != nil || len(body) > maxChallengeAnswerBytes {
			return selfkey.ErrBadRequest
		}
		tok, sub, err := s.Verify(c.Request().Context(), c.Request().Header.Get("Authorization"), body)
		if err != nil {
			return err
		}
		if err := h.deps.DB.SelfKeyWalletSeen(c.Request().Context(), sub, selfKeyClient(c)); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, selfkey.TokenResponse{JWT: tok})
	})
}

// createUser is POST /selfkey/users (multipart or JSON): the wallet's
// applicant with its attributes and documents, stored sealed; 201 with the
// user token.
func (h *selfKeyHandler) createUser(c echo.Context) error {
	return h.wallet(c, true, func(s *selfkey.Service) error {
		claims, err := s.Authenticate(c.Request().Header.Get("Authorization"))
		if err != nil {
			return err
		}
		req, err := selfkey.ParseUsers(c.Request().Header.Get("Content-Type"), c.Request().Body, s.Limits())
		if err != nil {
			return err
		}
		ex, err := req.Extract(s.Limits())
		if err != nil {
			return err
		}
		status, _ := selfkey.MapStatus(selfKeyUserStatus)
		attrs, docs, files := storeInputs(ex, nil)
		name, email := applicantName(ex.Attributes)
		_, err = h.deps.DB.SaveSelfKeyUser(c.Request().Context(), db.SelfKeyUserInput{
			SelfKeySubmission: db.SelfKeySubmission{Subject: claims.Subject, Attributes: attrs, Documents: docs, Files: files,
				Status: string(status), ProviderStatus: selfKeyUserStatus.String(), Client: selfKeyClient(c)},
			Reference: req.MetaString("reference"), Name: name, Email: email,
		})
		if err != nil {
			return err
		}
		tok, err := s.IssueUserToken(claims.Subject)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, selfkey.NewUserCreated(tok))
	})
}

// userToken is GET /selfkey/users/token and /selfkey/auth/token: a user
// token for a wallet that has its user; 404 user_does_not_exist otherwise.
func (h *selfKeyHandler) userToken(c echo.Context) error {
	return h.wallet(c, true, func(s *selfkey.Service) error {
		claims, err := s.Authenticate(c.Request().Header.Get("Authorization"))
		if err != nil {
			return err
		}
		w, err := h.deps.DB.SelfKeyWallet(c.Request().Context(), claims.Subject)
		if errors.Is(err, db.ErrNotFound) || (err == nil && w.ApplicantID == 0) {
			return selfkey.ErrUserNotFound
		}
		if err != nil {
			return err
		}
		tok, err := s.IssueUserToken(claims.Subject)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, selfkey.UserTokenResponse{Token: tok})
	})
}

// login is POST /selfkey/login {"token"}: the browser is sent to the
// end-user status page of the wallet's newest SelfKey verification.
func (h *selfKeyHandler) login(c echo.Context) error {
	return h.wallet(c, false, func(s *selfkey.Service) error {
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxLoginBytes+1))
		if err != nil || len(body) > maxLoginBytes {
			return selfkey.ErrBadRequest
		}
		tok, err := selfkey.ParseLoginBody(body)
		if err != nil {
			return err
		}
		sub, err := s.Login(c.Request().Context(), tok)
		if err != nil {
			return err
		}
		v, err := h.deps.DB.SelfKeyLatestVerification(c.Request().Context(), sub)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, selfkey.NewLoginResponse(h.endUserURL(v.Token)))
	})
}

// endUserURL is the absolute end-user page of a verification.
func (h *selfKeyHandler) endUserURL(token string) string {
	if h.deps.Flow != nil {
		return h.deps.Flow.EndUserURL(token)
	}
	return "/v/" + token
}

// listTemplates is GET /selfkey/templates: the templates offered.
func (h *selfKeyHandler) listTemplates(c echo.Context) error {
	return h.wallet(c, true, func(*selfkey.Service) error {
		ts, err := h.offered(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, selfkey.ListBody(ts))
	})
}

// showTemplate is GET /selfkey/templates/:id and .../schema.json.
func (h *selfKeyHandler) showTemplate(c echo.Context) error {
	return h.wallet(c, true, func(*selfkey.Service) error {
		ts, err := h.offered(c.Request().Context())
		if err != nil {
			return err
		}
		t, err := selfkey.FindTemplate(ts, c.Param("id"))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, selfkey.DetailBody(t))
	})
}

// offered are the active templates as the protocol engine reads them.
func (h *selfKeyHandler) offered(ctx context.Context) ([]selfkey.Template, error) {
	rows, err := h.templates.load(ctx, true)
	if err != nil {
		return nil, err
	}
	out := make([]selfkey.Template, len(rows))
	for i, t := range rows {
		out[i] = protocolTemplate(t)
	}
	return out, nil
}

// uploadFile is POST /selfkey/files and /selfkey/users/file: one document,
// checked by content, stripped of metadata and kept sealed until a request
// names it.
func (h *selfKeyHandler) uploadFile(c echo.Context) error {
	return h.wallet(c, true, func(s *selfkey.Service) error {
		claims, err := s.Authenticate(c.Request().Header.Get("Authorization"))
		if err != nil {
			return err
		}
		up, err := selfkey.ParseFileUpload(c.Request().Header.Get("Content-Type"), c.Request().Body, s.Limits())
		if err != nil {
			return err
		}
		id, err := h.deps.DB.StoreSelfKeyFile(c.Request().Context(), db.SelfKeyFileInput{Subject: claims.Subject, ContentType: up.ContentType,
			Data: up.Data, Client: selfKeyClient(c), ExpiresAt: h.deps.Now().Add(selfKeyFileTTL)})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, selfkey.NewFileCreated(id))
	})
}

// createApplication is POST /selfkey/applications: the attributes a
// template asks for (anything else is dropped) and the documents they name
// become a SelfKey verification of the wallet's applicant waiting for
// review; 201 with the application id and its status page.
func (h *selfKeyHandler) createApplication(c echo.Context) error {
	return h.wallet(c, true, func(s *selfkey.Service) error {
		claims, err := s.Authenticate(c.Request().Header.Get("Authorization"))
		if err != nil {
			return err
		}
		app, err := selfkey.ParseApplication(c.Request().Body, s.Limits())
		if err != nil {
			return err
		}
		ts, err := h.offered(c.Request().Context())
		if err != nil {
			return err
		}
		t, err := selfkey.FindTemplate(ts, app.TemplateID)
		if err != nil {
			return err
		}
		kept, err := t.Check(app.Attributes)
		if err != nil {
			return err
		}
		ex, err := selfkey.Extract(kept, nil, s.Limits())
		if err != nil {
			return err
		}
		status, _ := selfkey.MapStatus(selfKeyApplicationStatus)
		attrs, docs, files := storeInputs(ex, app.Files)
		r, err := h.deps.DB.CreateSelfKeyApplication(c.Request().Context(), db.SelfKeyApplicationInput{
			SelfKeySubmission: db.SelfKeySubmission{Subject: claims.Subject, Attributes: attrs, Documents: docs, Files: files,
				Status: string(status), ProviderStatus: selfKeyApplicationStatus.String(), Client: selfKeyClient(c)},
			TemplateID: t.ID, TemplateName: t.Name,
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, selfkey.NewApplicationCreated(r.ApplicationID, h.endUserURL(r.Token)))
	})
}

// storeInputs turns what the engine extracted into what the store takes.
// extraFiles are file ids listed beside the attributes (the seed's
// "files"); those no attribute names are kept as documents too.
func storeInputs(ex selfkey.Extracted, extraFiles []string) ([]db.AttributeInput, []db.DocumentInput, []db.SelfKeyFileRef) {
	p := string(providers.SelfKey)
	attrs := make([]db.AttributeInput, 0, len(ex.Attributes))
	for _, a := range ex.Attributes {
		attrs = append(attrs, db.AttributeInput{Provider: p, Meaning: a.Meaning, Name: a.Name, Value: a.Value})
	}
	docs := make([]db.DocumentInput, 0, len(ex.Documents))
	for _, d := range ex.Documents {
		docs = append(docs, db.DocumentInput{Provider: p, Name: d.Name, ContentType: d.ContentType, Data: d.Data})
	}
	var files []db.SelfKeyFileRef
	named := map[string]bool{}
	for _, f := range ex.FileRefs {
		files = append(files, db.SelfKeyFileRef{FileID: f.FileID, Name: f.Name, DeclaredType: f.MimeType})
		named[f.FileID] = true
	}
	for i, id := range extraFiles {
		if id != "" && !named[id] {
			files = append(files, db.SelfKeyFileRef{FileID: id, Name: fmt.Sprintf("application.files.%d", i)})
			named[id] = true
		}
	}
	return attrs, docs, files
}

// applicantName is the name and email the applicants list shows for a new
// SelfKey applicant, from the shared attributes.
func applicantName(attrs []providers.Attribute) (name, email string) {
	var first, last string
	for _, a := range attrs {
		switch a.Meaning {
		case "first_name":
			if first == "" {
				first = a.Value
			}
		case "last_name":
			if last == "" {
				last = a.Value
			}
		case "email":
			if email == "" {
				email = a.Value
			}
		}
	}
	name = strings.TrimSpace(first + " " + last)
	if name == "" {
		name = "SelfKey applicant"
	}
	return name, email
}

// simURL is the wallet simulator's page in sandbox mode ("" otherwise);
// reference, when set, is passed on so the simulated wallet joins that
// SelfKey link.
func (h *selfKeyHandler) simURL(reference string) string {
	if _, ok := h.deps.SandboxMounts[SelfKeySimPath]; !ok || h.deps.SelfKey == nil {
		return ""
	}
	u := SelfKeySimPath + "/_sim/"
	if reference != "" {
		u += "?ref=" + url.QueryEscape(reference)
	}
	return u
}

// applicantSimURL is the simulator button of an applicant page: shown for
// a SelfKey link no wallet has joined yet, which a simulated wallet can
// join by its reference.
func (h *selfKeyHandler) applicantSimURL(a db.Applicant, links []db.ProviderLink) string {
	if a.Archived() {
		return ""
	}
	for _, l := range links {
		if l.Provider == string(providers.SelfKey) && l.ExternalID == "" {
			return h.simURL(l.Reference)
		}
	}
	return ""
}

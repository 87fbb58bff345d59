package handlers

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/providers"
	bp "github.com/kycdesk/kycdesk/providers/blockpass"
	"github.com/kycdesk/kycdesk/providers/flow"
	bpview "github.com/kycdesk/kycdesk/views/blockpass"
	"github.com/kycdesk/kycdesk/web"
	"github.com/kycdesk/kycdesk/web/authz"
)

// blockpassHandler serves the Blockpass admin pages (the sync with its
// polled progress, the encrypted-export import) and the applicant page's
// Blockpass panel.
type blockpassHandler struct{ *Handlers }

// Upload limits of an encrypted export. A real profile export with its
// pictures is a few MiB; the limits also keep a form posted without
// JavaScript within the memory Go parses a form into, so no part of it is
// spooled to a temporary file.
const (
	maxExportBin   = 24 << 20
	maxExportMeta  = 64 << 10
	maxExportField = 1 << 10
	maxImportBody  = maxExportBin + maxExportMeta + 64<<10
)

// show is the sync page.
func (h *blockpassHandler) show(c echo.Context) error {
	ctx := c.Request().Context()
	runs, err := h.deps.DB.BlockpassSyncRuns(ctx, 10)
	if err != nil {
		return err
	}
	v := bpview.SyncView{
		Progress:        progressView(runs, h.deps.Now()),
		IntervalVar:     flow.EnvBlockpassSyncInterval,
		DefaultInterval: bpview.Interval(flow.DefaultBlockpassSyncInterval),
		EncryptionNote:  bp.ResponseEncryptionNote,
		EncryptionVars:  []string{bp.EnvEncryptionHeader, bp.EnvEncryptionKey},
		ExportKeyVar:    bp.EnvExportKeyFile,
	}
	if a, ok := h.deps.Registry.Get(providers.Blockpass); ok {
		v.BaseURL, v.Sandbox = a.BaseURL, a.Mode == providers.Sandbox
		if v.Sandbox {
			v.ConsoleURL = strings.TrimRight(a.BaseURL, "/") + "/_sim/blockpass/"
		}
	}
	if client, ok := flow.BlockpassClient(h.deps.Registry); ok {
		v.Configured = true
		v.EncryptionHeader, v.ResponseEncryption = client.ResponseEncryption()
		key, err := client.ExportKey()
		if err != nil {
			return err
		}
		v.ExportKey = key != nil
	}
	v.Page = h.page(c, "Blockpass", "admin")
	return web.Render(c, http.StatusOK, bpview.SyncPage(v))
}

// requestSync asks for a sync now; the Blockpass job runs it within seconds and
// the page's progress follows it.
func (h *blockpassHandler) requestSync(c echo.Context) error {
	st, _ := web.StaffFrom(c)
	_, fresh, err := h.deps.Flow.RequestBlockpassSync(c.Request().Context(), flow.Actor{ID: st.ID, Email: st.Email, IP: web.ClientIP(c)})
	if errors.Is(err, flow.ErrUnknownProvider) {
		return web.Errorf(http.StatusConflict, "Blockpass is not configured here: there is nothing to sync.")
	}
	if err != nil {
		return err
	}
	if fresh {
		h.deps.Web.Sessions.Flash(c, "Sync requested: it starts within a few seconds.")
	} else {
		h.deps.Web.Sessions.Flash(c, "A sync is already under way; its progress is shown below.")
	}
	return web.Redirect(c, "/admin/blockpass")
}

// progress is the polled progress partial.
func (h *blockpassHandler) progress(c echo.Context) error {
	runs, err := h.deps.DB.BlockpassSyncRuns(c.Request().Context(), 10)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, bpview.Progress(progressView(runs, h.deps.Now())))
}

func progressView(runs []db.BlockpassSyncRun, now time.Time) bpview.ProgressView {
	p := bpview.ProgressView{Runs: runs, Now: now}
	if len(runs) > 0 {
		p.Run = &runs[0]
	}
	return p
}

// importView is the import form's model; applicant is ?applicant= or the
// form's field.
func (h *blockpassHandler) importView(c echo.Context, applicant string) (bpview.ImportView, error) {
	v := bpview.ImportView{KeyVar: bp.EnvExportKeyFile, MaxBin: "24 MiB", MaxMeta: "64 KiB", Target: "new"}
	if client, ok := flow.BlockpassClient(h.deps.Registry); ok {
		key, err := client.ExportKey()
		if err != nil {
			return v, err
		}
		v.ExportKey = key != nil
	}
	if applicant != "" {
		id, err := strconv.ParseInt(applicant, 10, 64)
		if err != nil || id <= 0 {
			return v, badRequest("Unknown applicant.")
		}
		a, err := h.deps.DB.Applicant(c.Request().Context(), id)
		if errors.Is(err, db.ErrNotFound) {
			return v, echo.ErrNotFound
		}
		if err != nil {
			return v, err
		}
		v.Applicant, v.Target = &a, "existing"
	}
	return v, nil
}

// importForm shows the upload form.
func (h *blockpassHandler) importForm(c echo.Context) error {
	v, err := h.importView(c, c.QueryParam("applicant"))
	if err != nil {
		return err
	}
	v.Page = h.page(c, "Import a Blockpass export", "admin")
	return web.Render(c, http.StatusOK, bpview.ImportPage(v))
}

// importExport takes an encrypted export in: both files are read into
// memory (never a temporary file), decrypted in memory and stored in the
// applicant's encrypted store by the flow, which audits it.
func (h *blockpassHandler) importExport(c echo.Context) error {
	ctx := c.Request().Context()
	st, _ := web.StaffFrom(c)
	up, upErr := readExportUpload(c)
	v, err := h.importView(c, up.applicant)
	if err != nil {
		return err
	}
	v.Ref, v.Name = up.ref, up.name
	if v.Applicant == nil && up.target == "existing" {
		v.Target = "existing"
	}
	fail := func(msg string) error {
		v.Error = msg
		v.Page = h.page(c, "Import a Blockpass export", "admin")
		return web.Render(c, http.StatusOK, bpview.ImportPage(v))
	}
	if upErr != nil {
		return fail(upErr.Error())
	}
	if len(up.bin) == 0 || len(up.meta) == 0 {
		return fail("Choose both files of the export: profile.bin and meta.json.")
	}
	in := flow.BlockpassExport{ProfileBin: up.bin, MetaJSON: up.meta, Actor: flow.Actor{ID: st.ID, Email: st.Email, IP: web.ClientIP(c)}}
	switch {
	case v.Applicant != nil:
		in.ApplicantID = v.Applicant.ID
	case v.Target == "existing":
		a, err := h.deps.DB.ApplicantByRef(ctx, up.ref)
		if errors.Is(err, db.ErrNotFound) {
			return fail("No applicant has the reference " + strconv.Quote(up.ref) + ".")
		}
		if err != nil {
			return err
		}
		in.ApplicantID = a.ID
	default:
		if len(up.name) > 200 {
			return fail("The name is limited to 200 characters.")
		}
		in.New = &db.NewApplicant{Name: up.name}
	}
	res, err := h.deps.Flow.ImportBlockpassExport(ctx, in)
	var perr *flow.ProviderError
	switch {
	case errors.As(err, &perr):
		if aerr := h.audit(c, "blockpass.export_import_refused", "", strings.TrimPrefix(perr.Error(), "blockpass: ")); aerr != nil {
			return aerr
		}
		return fail("The export was not imported: " + strings.TrimPrefix(perr.Error(), "blockpass: export: ") + ".")
	case errors.Is(err, db.ErrConflict):
		return fail("This applicant is archived: no personal data can be added to it.")
	case err != nil:
		return err
	}
	msg := fmt.Sprintf("Imported %d attributes, %d documents and %d certificates from the Blockpass export.", res.Attributes, res.Documents, res.Certificates)
	if res.Skipped > 0 {
		msg += fmt.Sprintf(" %d file(s) were not stored: not a JPEG, PNG or PDF.", res.Skipped)
	}
	h.deps.Web.Sessions.Flash(c, msg)
	return web.Redirect(c, "/applicants/"+strconv.FormatInt(res.ApplicantID, 10))
}

// exportUpload is the import form as read.
type exportUpload struct {
	target, ref, name, applicant string
	bin, meta                    []byte
}

// uploadError is a problem with the upload the form explains.
type uploadError string

func (e uploadError) Error() string { return string(e) }

// readExportUpload reads the import form. Normally (htmx sends the CSRF
// token in a header) the body is still unread: its parts are streamed into
// memory with a limit each. A form posted without JavaScript was parsed by
// the CSRF check already; within our limits Go kept it in memory, and a
// part it spooled to disk is refused as too large and removed.
func readExportUpload(c echo.Context) (exportUpload, error) {
	req := c.Request()
	if req.MultipartForm != nil {
		return parsedExportUpload(req.MultipartForm)
	}
	var up exportUpload
	req.Body = http.MaxBytesReader(c.Response(), req.Body, maxImportBody)
	mr, err := req.MultipartReader()
	if err != nil {
		return up, uploadError("Choose the two files of the export and submit the form again.")
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return up, nil
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return up, uploadError("The upload is too large: profile.bin may be at most 24 MiB and meta.json 64 KiB.")
		}
		if err != nil {
			return up, uploadError("The upload was cut off or malformed; submit the form again.")
		}
		err = up.readPart(part.FormName(), part)
		part.Close()
		if err != nil {
			return up, err
		}
	}
}

// readPart stores one form part, refusing one over its limit.
func (up *exportUpload) readPart(name string, r io.Reader) error {
	limit, label := int64(maxExportField), name
	switch name {
	case "profile":
		limit, label = maxExportBin, "profile.bin (at most 24 MiB)"
	case "meta":
		limit, label = maxExportMeta, "meta.json (at most 64 KiB)"
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || int64(len(data)) > limit {
		return uploadError("This file is too large: " + label + ".")
	}
	if err != nil {
		return uploadError("The upload was cut off; submit the form again.")
	}
	value := strings.TrimSpace(string(data))
	switch name {
	case "profile":
		up.bin = data
	case "meta":
		up.meta = data
	case "target":
		up.target = value
	case "ref":
		up.ref = value
	case "name":
		up.name = value
	case "applicant":
		up.applicant = value
	}
	return nil
}

// parsedExportUpload reads a form the CSRF check parsed, then drops it.
func parsedExportUpload(f *multipart.Form) (exportUpload, error) {
	defer f.RemoveAll()
	var up exportUpload
	for _, name := range []string{"target", "ref", "name", "applicant"} {
		if vs := f.Value[name]; len(vs) > 0 {
			if err := up.readPart(name, strings.NewReader(vs[0])); err != nil {
				return up, err
			}
		}
	}
	for _, name := range []string{"profile", "meta"} {
		fhs := f.File[name]
		if len(fhs) == 0 {
			continue
		}
		file, err := fhs[0].Open()
		if err != nil {
			return up, uploadError("The upload could not be read; submit the form again.")
		}
		_, onDisk := file.(*os.File)
		if onDisk {
			file.Close()
			return up, uploadError("The upload is too large: profile.bin may be at most 24 MiB and meta.json 64 KiB.")
		}
		err = up.readPart(name, file)
		file.Close()
		if err != nil {
			return up, err
		}
	}
	return up, nil
}

// panel builds the applicant page's Blockpass card from what the page
// already loaded; nil when the applicant has nothing to do with Blockpass.
func (h *blockpassHandler) panel(c echo.Context, a db.Applicant, links []db.ProviderLink, certs []db.Certificate,
	attrs []db.Attribute, docs []db.Document, showPII bool) (*bpview.Panel, error) {
	linked := false
	for _, l := range links {
		linked = linked || l.Provider == string(providers.Blockpass)
	}
	records, err := h.deps.DB.BlockpassRecordsOf(c.Request().Context(), a.ID)
	if err != nil {
		return nil, err
	}
	st, _ := web.StaffFrom(c)
	p := &bpview.Panel{ApplicantID: a.ID, Records: records, ShowPII: showPII, Now: h.deps.Now(),
		CanImport: st.Can(authz.ManageSystem) && !a.Archived()}
	from := false
	for _, cert := range certs {
		if cert.Provider != string(providers.Blockpass) {
			continue
		}
		from = true
		if cert.Name == flow.CertWillArchiveAt {
			if t, err := time.Parse(time.RFC3339, cert.Value); err == nil && t.After(p.WillArchiveAt) {
				p.WillArchiveAt = t
			}
		}
	}
	seen := func(t time.Time) {
		if p.Since.IsZero() || t.Before(p.Since) {
			p.Since = t
		}
		if t.After(p.Latest) {
			p.Latest = t
		}
	}
	for _, at := range attrs {
		if at.Provider == string(providers.Blockpass) {
			p.Attributes++
			seen(at.CreatedAt)
		}
	}
	for _, d := range docs {
		if d.Provider == string(providers.Blockpass) {
			p.Documents++
			seen(d.CreatedAt)
		}
	}
	if !linked && len(records) == 0 && !from && p.Attributes+p.Documents == 0 {
		return nil, nil
	}
	return p, nil
}

// Package blockpass holds the Blockpass KYC Connect views: the sync page
// with its polled progress, the encrypted-export import form, and the
// applicant page's Blockpass panel.
package blockpass

import (
	"fmt"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views"
)

// SyncView is the admin page of the Blockpass sync.
type SyncView struct {
	Page     views.Page
	Progress ProgressView
	// Configured says a Blockpass client exists (live or sandbox).
	Configured bool
	Sandbox    bool
	BaseURL    string
	// ConsoleURL is the simulator's operator console (sandbox only).
	ConsoleURL string
	// IntervalVar names the schedule's setting.
	IntervalVar     string
	DefaultInterval string
	// ResponseEncryption: whether API replies are requested encrypted, the
	// header carrying the key, and what the scheme rests on.
	ResponseEncryption bool
	EncryptionHeader   string
	EncryptionNote     string
	EncryptionVars     []string
	ExportKey          bool
	ExportKeyVar       string
}

// ProgressView is the polled progress of the newest sync run, with the
// recent runs.
type ProgressView struct {
	Run  *db.BlockpassSyncRun
	Runs []db.BlockpassSyncRun // newest first
	Now  time.Time
}

// Active reports whether the progress should keep polling.
func (p ProgressView) Active() bool { return p.Run != nil && p.Run.Active() }

// Percent is how far the run got, 0-100 (0 when the total is unknown).
func (p ProgressView) Percent() int {
	if p.Run == nil || p.Run.Counts.Total <= 0 {
		return 0
	}
	return min(100, p.Run.Counts.Seen*100/p.Run.Counts.Total)
}

// ImportView is the encrypted-export import form.
type ImportView struct {
	Page views.Page
	// Applicant is set when importing for a given applicant.
	Applicant *db.Applicant
	Target    string // "new" or "existing"
	Ref       string // an existing applicant's reference, as typed
	Name      string // the new applicant's name, as typed
	Error     string
	ExportKey bool
	KeyVar    string
	MaxBin    string
	MaxMeta   string
}

// Panel is the applicant page's Blockpass card: what came from Blockpass,
// when, and when Blockpass will have deleted its copy.
type Panel struct {
	ApplicantID int64
	Records     []db.BlockpassRecord
	// WillArchiveAt is the newest willArchiveAt certificate (zero: none).
	WillArchiveAt time.Time
	// Attributes and Documents count what we hold from Blockpass (only
	// when the viewer may see personal data); Since is the first of them.
	Attributes int
	Documents  int
	Since      time.Time
	Latest     time.Time
	ShowPII    bool
	CanImport  bool
	Now        time.Time
}

// Date formats a date for the panel: exact, UTC, minutes.
func Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// Interval renders a schedule for people.
func Interval(d time.Duration) string {
	if d <= 0 {
		return "off"
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("every %d h", int(d.Hours()))
	}
	return fmt.Sprintf("every %d min", int(d.Minutes()))
}

// RunLabel says what a run is in words.
func RunLabel(r db.BlockpassSyncRun) string {
	switch r.State {
	case db.SyncQueued:
		return "Queued: starts within a few seconds"
	case db.SyncRunning:
		return "Running"
	case db.SyncDone:
		return "Done"
	case db.SyncFailed:
		return "Failed"
	}
	return r.State
}

// relative is the archive date relative to now ("in 3 days").
func relative(p Panel) string { return views.RelTime(p.WillArchiveAt, p.Now) }

// extractedLine says what we hold from Blockpass and since when.
func extractedLine(p Panel) string {
	if p.Attributes+p.Documents == 0 {
		return "No identity data from Blockpass in our store."
	}
	when := "received " + Date(p.Since)
	if !p.Latest.Equal(p.Since) {
		when += " to " + Date(p.Latest)
	}
	return fmt.Sprintf("In our store from Blockpass: %d attributes and %d documents, %s.", p.Attributes, p.Documents, when)
}

// Package reviews renders review under four eyes: the queue, a case with
// the maker's proposal form and the checker's side-by-side decision, the
// notes and decisions on the applicant page, and the admin's reason list.
package reviews

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/views"
)

// QueueFilter is the queue's query-string state.
type QueueFilter struct {
	State    string // open or proposed
	Provider string
	Age      string // one of AgeOptions' values
	Assignee string // "", "me", "none" or a user id
}

// Option is a value and its label in a select.
type Option struct {
	Value, Label string
}

// AgeOptions are the queue's age filter choices.
var AgeOptions = []Option{
	{"", "Any age"}, {"1h", "Over 1 hour"}, {"24h", "Over 1 day"}, {"72h", "Over 3 days"}, {"168h", "Over 7 days"}, {"720h", "Over 30 days"},
}

// QueueView is the /reviews page.
type QueueView struct {
	Page      views.Page
	Filter    QueueFilter
	Rows      []db.QueueItem
	Counts    db.QueueCounts
	NextURL   string
	FirstURL  string
	Now       time.Time
	Providers []string
	Staff     []db.User // who cases can be assigned to
	CanClaim  bool      // makers: "Next case"
	CanBulk   bool      // assign and note
	TabURLs   [2]string // open, proposed
	ReturnURL string    // this view, for the bulk form to come back to
}

// ProposeForm is the maker's form state (re-rendered with errors).
type ProposeForm struct {
	Decision string
	ReasonID int64
	Comment  string
	Error    string
}

// CaseView is one case: the evidence, the proposal form or the checker's
// decision panel, and the case's history.
type CaseView struct {
	Page         views.Page
	Applicant    db.Applicant
	Verification db.Verification
	Item         db.QueueItem // zero when not in review
	InReview     bool
	Evidence     db.Evidence
	Pending      *db.Proposal
	History      []db.Proposal // this verification's closed proposals
	Reasons      []db.Reason
	Attributes   []db.Attribute
	Documents    []db.Document
	Certificates []db.Certificate
	Timeline     []db.Event
	PIINotice    string
	Now          time.Time
	// What the viewer may do here.
	CanPropose  bool // a maker on an open case nobody else holds
	CanClaim    bool
	ClaimedByMe bool
	CanDecide   bool // a checker who is not the proposer
	IsProposer  bool
	CanNote     bool
	Form        ProposeForm
	DecideError string
}

// EvidenceChanged reports whether the evidence moved since the pending
// proposal.
func (v CaseView) EvidenceChanged() bool {
	return v.Pending != nil && v.Pending.Evidence.Digest != v.Evidence.Digest
}

// ApplicantReview is the notes and decisions block of the applicant page.
type ApplicantReview struct {
	ApplicantID int64
	Notes       []db.Note
	Proposals   []db.Proposal
	CanNote     bool
	CanExport   bool
	Archived    bool
	Now         time.Time
}

// SettingsView is the admin page for reasons and the claim timeout.
type SettingsView struct {
	Page         views.Page
	Reasons      []db.Reason
	ClaimMinutes int
	Error        string
}

func caseURL(verificationID int64) string { return "/reviews/" + strconv.FormatInt(verificationID, 10) }

func applicantURL(id int64) string { return "/applicants/" + strconv.FormatInt(id, 10) }

func documentURL(applicantID, docID int64) string {
	return applicantURL(applicantID) + "/documents/" + strconv.FormatInt(docID, 10)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Age renders how long something has waited ("3 h", "12 days").
func Age(since, now time.Time) string {
	if since.IsZero() {
		return "—"
	}
	d := now.Sub(since)
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
}

// DecisionTitle is a decision as a heading word.
func DecisionTitle(d string) string {
	switch d {
	case db.DecisionApprove:
		return "Approve"
	case db.DecisionReject:
		return "Reject"
	case db.DecisionRequestMore:
		return "Request more information"
	}
	return d
}

// OutcomeTitle is a proposal's outcome in words.
func OutcomeTitle(p db.Proposal) string {
	switch p.State {
	case db.ProposalPending:
		return "Waiting for a checker"
	case db.ProposalReturned:
		return "Returned to the maker"
	case db.ProposalSuperseded:
		return "Superseded"
	}
	switch p.Decision {
	case db.DecisionApprove:
		return "Approved"
	case db.DecisionReject:
		return "Rejected"
	}
	return "More information requested"
}

// outcomeClass colours an outcome badge; the text always says it too.
func outcomeClass(p db.Proposal) string {
	switch p.Outcome() {
	case db.DecisionApprove:
		return "bg-green-50 text-green-800 ring-green-400"
	case db.DecisionReject:
		return "bg-red-50 text-red-800 ring-red-400"
	case db.ProposalPending:
		return "bg-amber-50 text-amber-900 ring-amber-400"
	}
	return "bg-slate-100 text-slate-800 ring-slate-300"
}

func shortDigest(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func isImage(contentType string) bool {
	switch contentType {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
		return true
	}
	return false
}

func reasonsFor(all []db.Reason, decision string) []db.Reason {
	var out []db.Reason
	for _, r := range all {
		if r.Decision == decision {
			out = append(out, r)
		}
	}
	return out
}

func claimText(it db.QueueItem, now time.Time) string {
	if !it.ClaimedAt(now) {
		return ""
	}
	left := it.ClaimExpiresAt.Sub(now)
	return fmt.Sprintf("%s, %d min left", it.Claimer, int(left.Minutes())+1)
}

// ExportURL is the CSV export of the applicants list with its filters.
func ExportURL(provider, status, q string) string {
	v := url.Values{}
	for k, s := range map[string]string{"provider": provider, "status": status, "q": q} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if len(v) == 0 {
		return "/exports/applicants.csv"
	}
	return "/exports/applicants.csv?" + v.Encode()
}

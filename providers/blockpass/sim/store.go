package sim

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Candidate statuses, verbatim.
const (
	StatusIncomplete      = "incomplete"
	StatusWaiting         = "waiting"
	StatusInReview        = "inreview"
	StatusApproved        = "approved"
	StatusRejected        = "rejected"
	StatusBlocked         = "blocked"
	StatusReviewRequested = "review_requested"
)

func statuses() [7]string {
	return [...]string{StatusIncomplete, StatusWaiting, StatusInReview, StatusApproved, StatusRejected, StatusBlocked, StatusReviewRequested}
}

func validStatus(s string) bool {
	for _, v := range statuses() {
		if v == s {
			return true
		}
	}
	return false
}

// Id prefixes: 24-hex, Mongo-like ids whose first 8 digits say what made
// them, so a seeded id maps back to its index without a table.
const (
	seedRecordPrefix    = 0x65a1f000
	createdRecordPrefix = 0x66b2e000
	blockPassIDPrefix   = 0x5c3d2a10
	guidPrefix          = 0x5ffffc2d
	seedRefPrefix       = "seed-"
)

// seedEpoch anchors seeded dates, independent of the sim clock so that a
// seeded population is the same on every run.
func seedEpoch() time.Time { return time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC) }

// SeedRecordID is the recordId of seeded candidate i.
func SeedRecordID(i int) string { return fmt.Sprintf("%08x%016x", seedRecordPrefix, i) }

// SeedRefID is the refId of seeded candidate i; every tenth seeded
// candidate came without one (a user who found the service on their own).
func SeedRefID(i int) string {
	if i%10 == 9 {
		return ""
	}
	return fmt.Sprintf("%s%06d", seedRefPrefix, i)
}

// SeedStatus is the status seeded candidate i starts in: the seven
// statuses in turn.
func SeedStatus(i int) string { return statuses()[i%7] }

// seedArchived reports whether seeded candidate i starts archived (a share
// of the reviewed ones).
func seedArchived(i int) bool {
	switch SeedStatus(i) {
	case StatusIncomplete, StatusWaiting:
		return false
	}
	return i%11 == 10
}

// record is one candidate. Seeded candidates are generated from their
// index on demand and only stored here once something changes them.
type record struct {
	seed          int // index for seeded candidates, -1 otherwise
	refID         string
	recordID      string
	blockPassID   string
	status        string
	submitCount   int
	waiting       time.Time
	inreview      time.Time
	approved      time.Time
	willArchiveAt time.Time
	archived      bool
	deleted       bool
	// person is the shared identity once the user submitted; an untouched
	// seeded candidate's is generated from its index (identity) so that a
	// listing costs no more than its metadata.
	person    Person
	personSet bool
	imageSeed uint64
	// certsAt is when the checks issued certificates (zero: none yet); the
	// certificates themselves are rendered from it on a full fetch.
	certsAt   time.Time
	certsKey  string // "certs" or "certificates": both spellings exist
	riskLevel string
}

// identity is the candidate's identity data.
func (r *record) identity() Person {
	if !r.personSet && r.seed >= 0 {
		return FakePerson(uint64(r.seed))
	}
	return r.person
}

// seedRecord generates seeded candidate i.
func seedRecord(i int) *record {
	status := SeedStatus(i)
	r := &record{
		seed:        i,
		refID:       SeedRefID(i),
		recordID:    SeedRecordID(i),
		blockPassID: fmt.Sprintf("%08x%016x", blockPassIDPrefix, mix(uint64(i))),
		status:      status,
		imageSeed:   uint64(i),
		archived:    seedArchived(i),
		certsKey:    "certs",
		riskLevel:   [...]string{"Low", "Low", "Medium", "High"}[i%4],
	}
	if i%5 == 4 {
		r.certsKey = "certificates"
	}
	submitted := seedEpoch().Add(time.Duration(i) * 37 * time.Second)
	if status != StatusIncomplete {
		r.submitCount = 1 + i%3
		r.waiting = submitted
	}
	switch status {
	case StatusInReview, StatusApproved, StatusRejected, StatusBlocked, StatusReviewRequested:
		r.inreview = submitted.Add(2 * time.Hour)
		r.certsAt = r.inreview
	}
	if status == StatusApproved {
		r.approved = submitted.Add(26 * time.Hour)
	}
	return r
}

// seedIndex maps a seeded recordId back to its index.
func seedIndexFromRecordID(id string) (int, bool) {
	if len(id) != 24 || !strings.HasPrefix(id, fmt.Sprintf("%08x", seedRecordPrefix)) {
		return 0, false
	}
	n, err := strconv.ParseUint(id[8:], 16, 63)
	if err != nil {
		return 0, false
	}
	return int(n), true
}

// seedIndexFromRefID maps a seeded refId back to its index.
func seedIndexFromRefID(ref string) (int, bool) {
	rest, ok := strings.CutPrefix(ref, seedRefPrefix)
	if !ok || len(rest) < 6 {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || SeedRefID(n) != ref {
		return 0, false
	}
	return n, true
}

// archivedAt reports whether r is archived at now: archived outright, or
// past its archive-after-extract date.
func (r *record) archivedAt(now time.Time) bool {
	return r.archived || (!r.willArchiveAt.IsZero() && !now.Before(r.willArchiveAt))
}

// wireIdentity is one identity attribute on the wire.
type wireIdentity struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// wireRecord is a candidate on the wire.
type wireRecord struct {
	Status            string                  `json:"status"`
	RefID             string                  `json:"refId"`
	RecordID          string                  `json:"recordId"`
	BlockPassID       string                  `json:"blockPassID"`
	SubmitCount       int                     `json:"submitCount"`
	IsArchived        bool                    `json:"isArchived"`
	InreviewDate      *string                 `json:"inreviewDate"`
	WaitingDate       *string                 `json:"waitingDate"`
	ApprovedDate      *string                 `json:"approvedDate"`
	WillArchiveAtDate *string                 `json:"willArchiveAtDate,omitempty"`
	CustomFields      map[string]string       `json:"customFields,omitempty"`
	Identities        map[string]wireIdentity `json:"identities,omitempty"`
	Certs             map[string]string       `json:"certs,omitempty"`
	Certificates      map[string]string       `json:"certificates,omitempty"`
}

func wireDate(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format("2006-01-02T15:04:05.000Z")
	return &s
}

// wire renders r: metadata always; identities (with or without pictures)
// and certificates when full; never identities once archived.
func (r *record) wire(now time.Time, full bool, scope Scope) wireRecord {
	archived := r.archivedAt(now)
	w := wireRecord{
		Status: r.status, RefID: r.refID, RecordID: r.recordID, BlockPassID: r.blockPassID,
		SubmitCount: r.submitCount, IsArchived: archived,
		InreviewDate: wireDate(r.inreview), WaitingDate: wireDate(r.waiting), ApprovedDate: wireDate(r.approved),
		WillArchiveAtDate: wireDate(r.willArchiveAt),
	}
	if r.riskLevel != "" {
		w.CustomFields = map[string]string{"RiskLevel": r.riskLevel}
	}
	if !full || scope == ScopeMetadata {
		return w
	}
	p := r.identity()
	if !r.certsAt.IsZero() {
		certs := fakeCerts(p, r.status, r.certsAt)
		if r.certsKey == "certificates" {
			w.Certificates = certs
		} else {
			w.Certs = certs
		}
	}
	if archived {
		return w
	}
	w.Identities = map[string]wireIdentity{
		"given_name":  {Type: "string", Value: p.GivenName},
		"family_name": {Type: "string", Value: p.FamilyName},
		"email":       {Type: "string", Value: p.Email},
	}
	if r.status == StatusIncomplete {
		return w
	}
	w.Identities["dob"] = wireIdentity{Type: "string", Value: p.DOB}
	w.Identities["phone"] = wireIdentity{Type: "string", Value: mustJSON(p.Phone)}
	w.Identities["address"] = wireIdentity{Type: "string", Value: mustJSON(p.Address)}
	if scope != ScopeNoPictures {
		w.Identities["selfie"] = wireIdentity{Type: "base64", Value: base64.StdEncoding.EncodeToString(fakeImage(r.imageSeed, false))}
		w.Identities["selfie_national_id"] = wireIdentity{Type: "base64", Value: base64.StdEncoding.EncodeToString(fakeImage(r.imageSeed+1, true))}
		w.Identities["proof_of_address"] = wireIdentity{Type: "base64", Value: base64.StdEncoding.EncodeToString(fakeImage(r.imageSeed+2, false))}
	}
	return w
}

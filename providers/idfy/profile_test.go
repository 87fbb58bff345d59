package idfy

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/providers"
)

// TestProfileDecodeIgnoresNewKeys decodes a Get Profile reply with keys and
// types the adapter does not know (IDfy adds keys without notice).
func TestProfileDecodeIgnoresNewKeys(t *testing.T) {
	var p Profile
	if err := json.Unmarshal(readTestdata(t, "profile_completed.json"), &p); err != nil {
		t.Fatal(err)
	}
	if p.ProfileID != "5adf39fa-9d38-4337-9362-fd052f09b7fe" || p.ReferenceID != "kd-idfy-7Q2M9X" || p.Status != "completed" || p.ReviewerAction != "" {
		t.Errorf("ids/status: %+v", p)
	}
	if p.Comments != "Video KYC done" {
		t.Errorf("comments %q", p.Comments)
	}
	if p.StatusDetail != `{"code":7,"label":"agent_verified"}` {
		t.Errorf("status_detail kept as %q", p.StatusDetail)
	}
	if !p.CompletedAt.Equal(time.Date(2024, 5, 6, 10, 11, 12, 0, time.UTC)) {
		t.Errorf("completed_at %v", p.CompletedAt)
	}
	if len(p.Resources.Documents) != 1 || p.Resources.Documents[0].Type != "profile_report" {
		t.Errorf("documents %+v", p.Resources.Documents)
	}
	if len(p.Resources.Images) != 2 || p.Resources.Images[1].Type != "ind_pan" {
		t.Errorf("images %+v (the non-object entry must be skipped)", p.Resources.Images)
	}
	if len(p.Resources.Videos) != 1 || p.Resources.Videos[0].Type != "customer" {
		t.Errorf("videos %+v", p.Resources.Videos)
	}
	if Decide(p.Status, p.ReviewerAction) != providers.StatusNeedsReview {
		t.Errorf("completed with null reviewer_action: %s", Decide(p.Status, p.ReviewerAction))
	}

	attrs := Attributes(p)
	want := []providers.Attribute{
		{Meaning: "full_name", Name: "name", Value: "Asha Rao"},
		{Meaning: "date_of_birth", Name: "dob", Value: "1990-02-03"},
		{Meaning: "location", Name: "location", Value: `{"lat":19.07,"long":72.87}`},
		{Meaning: "score", Name: "score", Value: "0.93"},
	}
	if len(attrs) != len(want) {
		t.Fatalf("attributes %+v", attrs)
	}
	for i := range want {
		if attrs[i] != want[i] {
			t.Errorf("attribute %d = %+v, want %+v", i, attrs[i], want[i])
		}
	}
}

func TestProfileDecodeNullsAndWrongShapes(t *testing.T) {
	var p Profile
	body := `{"profile_id":"p","status":null,"reviewer_action":7,"status_description":"plain text","profile_data":null,"resources":null,"capture_expires_at":"garbage"}`
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	if p.ProfileID != "p" || p.Status != "" || p.ReviewerAction != "7" || p.Comments != "plain text" || !p.CaptureExpiresAt.IsZero() {
		t.Errorf("got %+v", p)
	}
}

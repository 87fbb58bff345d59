package idfy

import (
	"testing"

	"github.com/kycdesk/kycdesk/providers"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		status, reviewer string
		want             providers.Status
	}{
		{"capture_pending", "", providers.StatusInvited},
		{"recapture_pending", "", providers.StatusInvited},
		{"in_progress", "", providers.StatusInProgress},
		{"in_progress", "null", providers.StatusInProgress},
		{"completed", "", providers.StatusNeedsReview},
		{"completed", "null", providers.StatusNeedsReview},
		{"completed", "approved", providers.StatusApproved},
		{"Completed", " APPROVED ", providers.StatusApproved},
		{"completed", "rejected", providers.StatusRejected},
		{"completed", "on_hold", providers.StatusNeedsReview},
		{"rejected", "", providers.StatusRejected},
		{"review_required", "", providers.StatusNeedsReview},
		{"capture_expired", "", providers.StatusExpired},
		{"purged", "", providers.StatusWithdrawn},
		{"purged", "approved", providers.StatusApproved},
		{"purged", "rejected", providers.StatusRejected},
		{"something_new", "", providers.StatusInProgress},
		{"", "", providers.StatusInProgress},
	}
	for _, tt := range tests {
		if got := Decide(tt.status, tt.reviewer); got != tt.want {
			t.Errorf("Decide(%q, %q) = %s, want %s", tt.status, tt.reviewer, got, tt.want)
		}
	}
}

func TestProviderStatus(t *testing.T) {
	tests := []struct{ status, reviewer, want string }{
		{"completed", "approved", "completed/approved"},
		{"completed", "", "completed"},
		{"completed", "null", "completed"},
		{"Weird_New", "Maybe", "Weird_New/Maybe"},
	}
	for _, tt := range tests {
		if got := ProviderStatus(tt.status, tt.reviewer); got != tt.want {
			t.Errorf("ProviderStatus(%q, %q) = %q, want %q", tt.status, tt.reviewer, got, tt.want)
		}
	}
}

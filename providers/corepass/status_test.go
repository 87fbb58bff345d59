package corepass

import (
	"testing"

	"github.com/kycdesk/kycdesk/providers"
)

func TestMapStatus(t *testing.T) {
	want := map[string]providers.Status{
		"PENDING":            providers.StatusInvited,
		"ACCEPTED":           providers.StatusInProgress,
		"INITIATE_SUBMITTED": providers.StatusInProgress,
		"INITIATED":          providers.StatusInProgress,
		"INITIATED_FAILED":   providers.StatusFailed,
		"KYC_RECEIVED":       providers.StatusInProgress,
		"VALIDITY_CHECK":     providers.StatusInProgress,
		"VALIDITY_SUCCEED":   providers.StatusInProgress,
		"VALIDITY_FAILED":    providers.StatusFailed,
		"CONFIRM_SUBMITTED":  providers.StatusInProgress,
		"CONFIRMED":          providers.StatusInProgress,
		"CONFIRM_FAILED":     providers.StatusFailed,
		"CALLBACK_SUCCEED":   providers.StatusNeedsReview,
		"CALLBACK_FAILED":    providers.StatusInProgress,
		"FINISH_SUCCESS":     providers.StatusNeedsReview,
		"FINISH_FAILED":      providers.StatusFailed,
	}
	all := AllStatuses()
	if len(all) != 16 {
		t.Fatalf("%d statuses, want 16", len(all))
	}
	for _, s := range all {
		w, ok := want[s]
		if !ok {
			t.Errorf("status %s not in the test table", s)
			continue
		}
		if got := MapStatus(s); got != w {
			t.Errorf("MapStatus(%s) = %s, want %s", s, got, w)
		}
		if DescribeStatus(s) == DescribeStatus("SOMETHING_NEW") {
			t.Errorf("%s has no description", s)
		}
	}
	extra := map[string]providers.Status{
		"CONFIRMED_FAILED": providers.StatusFailed, // the seed's other spelling
		"DATA_RECEIVED":    providers.StatusNeedsReview,
		"expired":          providers.StatusExpired,
		"SOMETHING_NEW":    providers.StatusInProgress,
		"":                 providers.StatusInProgress,
	}
	for s, w := range extra {
		if got := MapStatus(s); got != w {
			t.Errorf("MapStatus(%q) = %s, want %s", s, got, w)
		}
	}
}

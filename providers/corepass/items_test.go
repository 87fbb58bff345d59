package corepass

import (
	"slices"
	"testing"
)

func TestFieldHashVectors(t *testing.T) {
	v := loadVectors(t)
	items := Items()
	if len(items) != 46 || len(v.FieldHashOfItem) != 46 {
		t.Fatalf("%d items, %d vectors, want 46", len(items), len(v.FieldHashOfItem))
	}
	for _, it := range items {
		want, ok := v.FieldHashOfItem[it]
		if !ok {
			t.Errorf("%s: not in the vectors (misspelt item?)", it)
			continue
		}
		if got := FieldHash(it); got != want {
			t.Errorf("FieldHash(%s) = %s, want %s", it, got, want)
		}
		if back, ok := ItemForFieldHash(want); !ok || back != it {
			t.Errorf("ItemForFieldHash(%s) = %q, %v", want, back, ok)
		}
	}
	if _, ok := ItemForFieldHash(FieldHash("SH_Unknown")); ok {
		t.Error("hash of an unknown item mapped back")
	}
}

func TestMeaningsRoundTrip(t *testing.T) {
	for _, it := range Items() {
		m, d, ok := MeaningOf(it)
		if !ok {
			t.Fatalf("MeaningOf(%s) not ok", it)
		}
		back, ok := ItemFor(d, m)
		if !ok || back != it {
			t.Errorf("ItemFor(%s, %s) = %s, want %s", d, m, back, it)
		}
	}
	for _, m := range Meanings() {
		if len(ItemsFor(m)) == 0 {
			t.Errorf("meaning %s has no items", m)
		}
	}
	if got := ItemsFor(MeaningDateOfBirth); !slices.Equal(got, []string{"SH_IDCard_DOB", "SH_Passport_DOB", "SH_ResidencePermit_DOB", "SH_DriverLicense_DOB"}) {
		t.Errorf("ItemsFor(date_of_birth) = %v", got)
	}
	if _, _, ok := MeaningOf("SH_Passport_Nickname"); ok {
		t.Error("unknown field accepted")
	}
	if !IsImage("SH_Passport_FaceImage") || !IsImage("SH_IDCard_DocumentImage") || IsImage("SH_EMAIL") {
		t.Error("IsImage wrong")
	}
}

func TestPlanRequest(t *testing.T) {
	tests := []struct {
		name        string
		verified    []string
		meanings    []string
		wantItems   []string
		wantMissing []string
	}{
		{
			name:      "one document covers all",
			verified:  []string{"SH_Passport_FULLNAME", "SH_Passport_DOB", "SH_EMAIL"},
			meanings:  []string{"full_name", "date_of_birth", "email"},
			wantItems: []string{"SH_Passport_FULLNAME", "SH_Passport_DOB", "SH_EMAIL"},
		},
		{
			name:      "prefers the document with most coverage over list order",
			verified:  []string{"SH_IDCard_DOB", "SH_DriverLicense_DOB", "SH_DriverLicense_FULLNAME"},
			meanings:  []string{"full_name", "date_of_birth"},
			wantItems: []string{"SH_DriverLicense_FULLNAME", "SH_DriverLicense_DOB"},
		},
		{
			name:      "tie goes to the document order (IDCard first)",
			verified:  []string{"SH_Passport_DOB", "SH_IDCard_DOB"},
			meanings:  []string{"date_of_birth"},
			wantItems: []string{"SH_IDCard_DOB"},
		},
		{
			name:        "mixes documents and reports what is missing",
			verified:    []string{"SH_ResidencePermit_FULLNAME", "SH_Passport_Country"},
			meanings:    []string{"full_name", "document_country", "date_of_birth", "phone"},
			wantItems:   []string{"SH_ResidencePermit_FULLNAME", "SH_Passport_Country"},
			wantMissing: []string{"date_of_birth", "phone"},
		},
		{
			name:        "exact item names",
			verified:    []string{"SH_Passport_DOB"},
			meanings:    []string{"SH_Passport_DOB", "SH_IDCard_DOB"},
			wantItems:   []string{"SH_Passport_DOB"},
			wantMissing: []string{"SH_IDCard_DOB"},
		},
		{
			name:        "nothing verified",
			meanings:    []string{"full_name"},
			wantMissing: []string{"full_name"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, missing := PlanRequest(tc.verified, tc.meanings)
			if !slices.Equal(items, tc.wantItems) || !slices.Equal(missing, tc.wantMissing) {
				t.Errorf("PlanRequest = %v, %v; want %v, %v", items, missing, tc.wantItems, tc.wantMissing)
			}
		})
	}
}

func TestParseMeanings(t *testing.T) {
	m, unknown := ParseMeanings(" Full_Name, date_of_birth,,SH_Passport_DOB, full_name, shoe_size ")
	if !slices.Equal(m, []string{"full_name", "date_of_birth", "SH_Passport_DOB"}) || !slices.Equal(unknown, []string{"shoe_size"}) {
		t.Errorf("ParseMeanings = %v, %v", m, unknown)
	}
	c := CandidateItems([]string{"email", "gender"})
	if len(c) != 5 || c[0] != ItemEmail {
		t.Errorf("CandidateItems = %v", c)
	}
}

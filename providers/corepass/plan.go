package corepass

import (
	"slices"
	"strings"
)

// DefaultMeanings is what Start asks for when the "meanings" parameter is
// empty: enough to identify a person from one document, without images
// (every item costs the business Core Tokens).
func DefaultMeanings() []string {
	return []string{MeaningFullName, MeaningDateOfBirth, MeaningDocumentNumber,
		MeaningDocumentCountry, MeaningExpiryDate}
}

// ParseMeanings splits a comma-separated list of meanings (or exact item
// names such as SH_Passport_DOB), trimming blanks and dropping repeats.
// unknown lists the entries that are neither.
func ParseMeanings(list string) (meanings, unknown []string) {
	for _, m := range strings.Split(list, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		if !strings.HasPrefix(m, "SH_") {
			m = strings.ToLower(m)
		}
		if slices.Contains(meanings, m) || slices.Contains(unknown, m) {
			continue
		}
		if len(candidates(m)) == 0 {
			unknown = append(unknown, m)
			continue
		}
		meanings = append(meanings, m)
	}
	return meanings, unknown
}

// candidates lists the items that could carry a meaning, or the item itself
// when the entry is already an item name.
func candidates(meaning string) []string {
	if _, _, ok := MeaningOf(meaning); ok {
		return []string{meaning}
	}
	return ItemsFor(meaning)
}

// CandidateItems lists every item that could satisfy any of the meanings:
// what to ask /api/v1/blockchain/verified about.
func CandidateItems(meanings []string) []string {
	var out []string
	for _, m := range meanings {
		for _, it := range candidates(m) {
			if !slices.Contains(out, it) {
				out = append(out, it)
			}
		}
	}
	return out
}

// PlanRequest chooses, for each meaning, one item the user has verified,
// following the CorePass document's advice to ask for the document kind the
// user actually has. Document-bound meanings come from as few documents as
// possible: kinds are ranked by how many of the requested meanings they
// cover (ties in DocTypes order), so a name and a date of birth come from
// the same document when one holds both. missing lists, in request order,
// the meanings (or item names) the user has not verified on any document,
// and any meaning the adapter does not know.
func PlanRequest(verified []string, meanings []string) (items []string, missing []string) {
	have := make(map[string]bool, len(verified))
	for _, v := range verified {
		have[v] = true
	}

	kinds := DocTypes()
	cover := make(map[DocType]int, len(kinds))
	for _, d := range kinds {
		for _, m := range meanings {
			if it, ok := ItemFor(d, m); ok && have[it] && it != ItemEmail && it != ItemPhone {
				cover[d]++
			}
		}
	}
	slices.SortStableFunc(kinds, func(a, b DocType) int { return cover[b] - cover[a] })

	add := func(it string) {
		if !slices.Contains(items, it) {
			items = append(items, it)
		}
	}
	for _, m := range meanings {
		if _, _, ok := MeaningOf(m); ok { // an exact item name
			if have[m] {
				add(m)
			} else {
				missing = append(missing, m)
			}
			continue
		}
		found := false
		for _, d := range kinds {
			if it, ok := ItemFor(d, m); ok && have[it] {
				add(it)
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, m)
		}
	}
	return items, missing
}

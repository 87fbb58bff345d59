package db

import (
	"strings"
	"unicode"
)

// searchEmail is how an email goes into the search index: letters and
// digits that run together are split ("schmidt96" -> "schmidt 96"). Without
// this, thousands of addresses like schmidt1..schmidt999 each become their
// own index term, and a prefix search for "schmidt" has to merge them all
// (measured at 1M applicants: 20 ms per search instead of well under 1 ms).
func searchEmail(email string) string {
	var b strings.Builder
	b.Grow(len(email) + 4)
	var prev rune
	for i, r := range email {
		if i > 0 && ((unicode.IsLetter(prev) && unicode.IsDigit(r)) || (unicode.IsDigit(prev) && unicode.IsLetter(r))) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// splitLettersDigits splits a word made of letters followed by digits
// ("schmidt96") into its two parts; ok is false for any other shape.
func splitLettersDigits(w string) (letters, digits string, ok bool) {
	i := strings.IndexFunc(w, unicode.IsDigit)
	if i <= 0 {
		return "", "", false
	}
	letters, digits = w[:i], w[i:]
	if strings.IndexFunc(letters, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 ||
		strings.IndexFunc(digits, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0 {
		return "", "", false
	}
	return letters, digits, true
}

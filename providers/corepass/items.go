package corepass

import (
	"crypto/sha3"
	"encoding/hex"
	"strings"
	"sync"
)

// DocType is a CorePass identity document kind, as it appears inside item
// names (SH_<DocType>_<Field>).
type DocType string

// The four document kinds the connector knows, in the order the CorePass
// document lists them; PlanRequest prefers them in this order on a tie.
const (
	IDCard          DocType = "IDCard"
	Passport        DocType = "Passport"
	ResidencePermit DocType = "ResidencePermit"
	DriverLicense   DocType = "DriverLicense"
)

// DocTypes lists the document kinds in preference order.
func DocTypes() []DocType {
	return []DocType{IDCard, Passport, ResidencePermit, DriverLicense}
}

// Meanings of the data the connector can transfer, as KYC Desk names them.
const (
	MeaningFullName        = "full_name"
	MeaningDateOfBirth     = "date_of_birth"
	MeaningExpiryDate      = "expiry_date"
	MeaningIssueDate       = "issue_date"
	MeaningDocumentNumber  = "document_number"
	MeaningGender          = "gender"
	MeaningDocumentCountry = "document_country"
	MeaningDocumentImage   = "document_image"
	MeaningFaceImage       = "face_image"
	MeaningAMLCheck        = "aml_check"
	MeaningAMLDetail       = "aml_detail"
	MeaningEmail           = "email"
	MeaningPhone           = "phone"
)

// Item names that belong to no document.
const (
	ItemEmail = "SH_EMAIL"
	ItemPhone = "SH_PHONE"
)

// docField pairs a document-bound meaning with the field part of its item
// names.
type docField struct{ meaning, field string }

// docFields lists the document-bound meanings in the order the CorePass
// document lists their items.
func docFields() []docField {
	return []docField{
		{MeaningFullName, "FULLNAME"},
		{MeaningDateOfBirth, "DOB"},
		{MeaningExpiryDate, "ExpiryDate"},
		{MeaningIssueDate, "IssueDate"},
		{MeaningDocumentNumber, "DocumentNumber"},
		{MeaningGender, "Gender"},
		{MeaningDocumentCountry, "Country"},
		{MeaningDocumentImage, "DocumentImage"},
		{MeaningFaceImage, "FaceImage"},
		{MeaningAMLCheck, "AML_Check"},
		{MeaningAMLDetail, "AML_Detail"},
	}
}

// Meanings lists every meaning the adapter understands.
func Meanings() []string {
	out := make([]string, 0, len(docFields())+2)
	for _, f := range docFields() {
		out = append(out, f.meaning)
	}
	return append(out, MeaningEmail, MeaningPhone)
}

// Items lists all 46 item names in the order of the CorePass document.
func Items() []string {
	out := make([]string, 0, len(docFields())*4+2)
	for _, d := range DocTypes() {
		for _, f := range docFields() {
			out = append(out, itemName(d, f.field))
		}
	}
	return append(out, ItemEmail, ItemPhone)
}

// ItemFor returns the item name carrying meaning on a document of kind d.
// Email and phone belong to no document and ignore d.
func ItemFor(d DocType, meaning string) (string, bool) {
	switch meaning {
	case MeaningEmail:
		return ItemEmail, true
	case MeaningPhone:
		return ItemPhone, true
	}
	for _, f := range docFields() {
		if f.meaning == meaning {
			return itemName(d, f.field), true
		}
	}
	return "", false
}

// ItemsFor lists the candidate items for a meaning, one per document kind
// in preference order (just SH_EMAIL or SH_PHONE for those two).
func ItemsFor(meaning string) []string {
	switch meaning {
	case MeaningEmail:
		return []string{ItemEmail}
	case MeaningPhone:
		return []string{ItemPhone}
	}
	var out []string
	for _, d := range DocTypes() {
		if it, ok := ItemFor(d, meaning); ok {
			out = append(out, it)
		}
	}
	return out
}

// MeaningOf splits an item name into its meaning and document kind
// ("" for SH_EMAIL and SH_PHONE). ok is false for a name the CorePass
// document does not list.
func MeaningOf(item string) (meaning string, doc DocType, ok bool) {
	switch item {
	case ItemEmail:
		return MeaningEmail, "", true
	case ItemPhone:
		return MeaningPhone, "", true
	}
	for _, d := range DocTypes() {
		rest, found := strings.CutPrefix(item, "SH_"+string(d)+"_")
		if !found {
			continue
		}
		for _, f := range docFields() {
			if f.field == rest {
				return f.meaning, d, true
			}
		}
	}
	return "", "", false
}

// IsImage reports whether an item carries an image (document or face)
// rather than text.
func IsImage(item string) bool {
	m, _, ok := MeaningOf(item)
	return ok && (m == MeaningDocumentImage || m == MeaningFaceImage)
}

// FieldHash is hex(SHA3-256(item)): how status callbacks name the items in
// their "fields" list.
func FieldHash(item string) string {
	sum := sha3.Sum256([]byte(item))
	return hex.EncodeToString(sum[:])
}

// ItemForFieldHash maps a status callback's field hash back to the item
// name. ok is false for a hash of no known item.
func ItemForFieldHash(hash string) (string, bool) {
	item, ok := itemsByHash()[strings.ToLower(hash)]
	return item, ok
}

// itemsByHash is computed once and never written after.
var itemsByHash = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, 46)
	for _, it := range Items() {
		m[FieldHash(it)] = it
	}
	return m
})

func itemName(d DocType, field string) string {
	return "SH_" + string(d) + "_" + field
}

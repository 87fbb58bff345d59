package handlers

import (
	"net/url"

	"github.com/PuerkitoBio/goquery"
)

type goquery_Selection = goquery.Selection

func urlQuery(s string) string { return url.QueryEscape(s) }

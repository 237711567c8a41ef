package crm

import (
	"testing"
	"time"
)

func TestParseSearch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		kind SearchKind
		err  bool
	}{
		{"", "", SearchNone, false},
		{"Ana@Example.com", "ana@example.com", SearchEmail, false},
		{"ana@", "", SearchNone, true},
		{"+34 600 123 456", "+34600123456", SearchPhone, false},
		{"0034600123456", "+34600123456", SearchPhone, false},
		{"+12", "", SearchNone, true},
		{"Jos", "jos", SearchName, false},
		{"  Núñez  GIL ", "nunez gil", SearchName, false},
		{"!!", "", SearchNone, true},
	} {
		got, kind, err := ParseSearch(tc.in)
		if (err != nil) != tc.err || got != tc.want || kind != tc.kind {
			t.Errorf("ParseSearch(%q) = %q, %v, %v", tc.in, got, kind, err)
		}
	}
}

func TestQueryMatches(t *testing.T) {
	visit := now.Add(-24 * time.Hour)
	c := Customer{Profile: Profile{GivenName: "María José", FamilyName: "Núñez", Tags: []string{"VIP"}, Type: TypeDirect,
		CardTemplate: "standard", Favorite: true}, State: StateActive, Metrics: Metrics{LastVisitAt: &visit}}
	yes, no := true, false
	for _, tc := range []struct {
		name string
		q    Query
		want bool
	}{
		{"no filter", Query{}, true},
		{"active", Query{Activity: ActivityActive}, true},
		{"inactive", Query{Activity: ActivityInactive}, false},
		{"state", Query{State: StateSuspended}, false},
		{"type", Query{Type: TypeDirect}, true},
		{"card", Query{CardTemplate: "partner"}, false},
		{"favourite", Query{Favorite: &yes}, true},
		{"not favourite", Query{Favorite: &no}, false},
		{"tag folded", Query{Tag: Fold("vip")}, true},
		{"other tag", Query{Tag: "gold"}, false},
		{"name words", Query{SearchKind: SearchName, Search: "jo nun"}, true},
		{"name word missing", Query{SearchKind: SearchName, Search: "jo garcia"}, false},
	} {
		tc.q.Now = now
		if got := tc.q.Matches(c); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := FirstMatchingToken(c, "j"); got != "jose" {
		t.Errorf("FirstMatchingToken = %q", got)
	}
	if (Query{Search: "maria jo"}).SearchToken() != "maria" {
		t.Error("SearchToken is the first word")
	}
}

func TestConsentFilterAndEvent(t *testing.T) {
	yes, no := true, false
	with, without := Customer{Profile: Profile{NewsletterConsent: true}}, Customer{}
	for _, tc := range []struct {
		filter *bool
		c      Customer
		want   bool
	}{{nil, with, true}, {nil, without, true}, {&yes, with, true}, {&yes, without, false}, {&no, with, false}, {&no, without, true}} {
		q := Query{NewsletterConsent: tc.filter}
		if got := q.Matches(tc.c); got != tc.want || q.Filtered() != (tc.filter != nil) {
			t.Errorf("filter %v, consent %v: %v, want %v", tc.filter, tc.c.NewsletterConsent, got, tc.want)
		}
	}
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	with.UpdatedAt, with.Source = at, "import"
	if ev, ok := ConsentEvent(Customer{}, with); !ok || ev.Type != "consent_given" || ev.Data["source"] != "import" || !ev.At.Equal(at) {
		t.Fatalf("given: %+v %v", ev, ok)
	}
	without.UpdatedAt = at
	if ev, ok := ConsentEvent(with, without); !ok || ev.Type != "consent_withdrawn" || ev.Data["channel"] != "newsletter" {
		t.Fatalf("withdrawn: %+v %v", ev, ok)
	}
	if _, ok := ConsentEvent(with, with); ok {
		t.Fatal("an event without a change")
	}
}

func TestWithNationalPhone(t *testing.T) {
	for _, tc := range []struct {
		raw, region, search string
		kind                SearchKind
	}{
		{"600 12 34 56", "ES", "+34600123456", SearchPhone},
		{"600 12 34 56", "", "600 12 34 56", SearchName},
		{"12345", "ES", "12345", SearchName},
		{"ana", "ES", "ana", SearchName},
	} {
		search, kind, err := ParseSearch(tc.raw)
		if err != nil {
			t.Fatal(err)
		}
		q := Query{Search: search, SearchKind: kind}.WithNationalPhone(tc.raw, tc.region)
		if q.Search != tc.search || q.SearchKind != tc.kind {
			t.Errorf("%q in %q: %q (%d), want %q (%d)", tc.raw, tc.region, q.Search, q.SearchKind, tc.search, tc.kind)
		}
	}
}

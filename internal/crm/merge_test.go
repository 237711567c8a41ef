package crm_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/crm"
)

func TestMerge(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	early, late := now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0)
	home := crm.Address{Label: "Casa", Line1: "Calle Mayor 1", City: "Madrid", Country: "ES", Primary: true}
	work := crm.Address{Label: "Trabajo", Line1: "Gran Vía 2", City: "Madrid", Country: "ES", Primary: true}
	manyTags := make([]string, crm.MaxTags)
	manyAttrs := map[string]string{}
	for i := range manyTags {
		manyTags[i] = fmt.Sprintf("t%02d", i)
		manyAttrs[fmt.Sprintf("k%02d", i)] = "v"
	}
	for _, tc := range []struct {
		name      string
		surv, dup crm.Customer
		check     func(t *testing.T, got crm.Customer)
	}{
		{"identifiers: survivor keeps its own, takes the missing ones, the rest become aliases",
			crm.Customer{Profile: crm.Profile{Email: "a@x.es", CardNumber: "CARD1"}, Aliases: []crm.Unique{{"email", "old@x.es"}}},
			crm.Customer{Profile: crm.Profile{Email: "b@x.es", Phone: "+34600000001", CardNumber: "CARD2"}, Aliases: []crm.Unique{{"external_id", "E9"}}},
			func(t *testing.T, got crm.Customer) {
				if got.Email != "a@x.es" || got.Phone != "+34600000001" || got.CardNumber != "CARD1" {
					t.Fatalf("identifiers %+v", got.Profile)
				}
				want := []crm.Unique{{"email", "old@x.es"}, {"email", "b@x.es"}, {"card", "CARD2"}, {"external_id", "E9"}}
				if !slices.Equal(got.Aliases, want) {
					t.Fatalf("aliases %v, want %v", got.Aliases, want)
				}
				if u := got.Uniques(); len(u) != 7 {
					t.Fatalf("uniques %v", u)
				}
			}},
		{"names: survivor wins, empty ones filled",
			crm.Customer{Profile: crm.Profile{GivenName: "Ana", CardTemplate: "oro"}},
			crm.Customer{Profile: crm.Profile{GivenName: "Anita", FamilyName: "Ruiz", Birthday: "1990-01-02", CardTemplate: "standard"}},
			func(t *testing.T, got crm.Customer) {
				if got.GivenName != "Ana" || got.FamilyName != "Ruiz" || got.Birthday != "1990-01-02" || got.CardTemplate != "oro" {
					t.Fatalf("profile %+v", got.Profile)
				}
			}},
		{"tags: union by folded form, capped",
			crm.Customer{Profile: crm.Profile{Tags: []string{"VIP", "café"}}},
			crm.Customer{Profile: crm.Profile{Tags: []string{"vip", "Cafe", "desayunos"}}},
			func(t *testing.T, got crm.Customer) {
				if !slices.Equal(got.Tags, []string{"VIP", "café", "desayunos"}) {
					t.Fatalf("tags %v", got.Tags)
				}
			}},
		{"tags: the survivor's full list stays as it is",
			crm.Customer{Profile: crm.Profile{Tags: manyTags}},
			crm.Customer{Profile: crm.Profile{Tags: []string{"extra"}}},
			func(t *testing.T, got crm.Customer) {
				if len(got.Tags) != crm.MaxTags || slices.Contains(got.Tags, "extra") {
					t.Fatalf("tags %v", got.Tags)
				}
			}},
		{"favourite: either; attributes: survivor wins conflicts",
			crm.Customer{Profile: crm.Profile{Attributes: map[string]string{"leche": "avena"}}},
			crm.Customer{Profile: crm.Profile{Favorite: true, Attributes: map[string]string{"leche": "entera", "tienda": "Sol"}}},
			func(t *testing.T, got crm.Customer) {
				if !got.Favorite || got.Attributes["leche"] != "avena" || got.Attributes["tienda"] != "Sol" || len(got.Attributes) != 2 {
					t.Fatalf("favorite %v attributes %v", got.Favorite, got.Attributes)
				}
			}},
		{"attributes: capped",
			crm.Customer{Profile: crm.Profile{Attributes: manyAttrs}},
			crm.Customer{Profile: crm.Profile{Attributes: map[string]string{"zz": "1"}}},
			func(t *testing.T, got crm.Customer) {
				if len(got.Attributes) != crm.MaxAttributes || got.Attributes["zz"] != "" {
					t.Fatalf("attributes %d", len(got.Attributes))
				}
			}},
		{"addresses: survivor's primary stays, missing ones added, same ones once",
			crm.Customer{Profile: crm.Profile{Addresses: []crm.Address{home}}},
			crm.Customer{Profile: crm.Profile{Addresses: []crm.Address{work, {Label: "Otra", Line1: home.Line1, City: home.City, Country: "ES"}}}},
			func(t *testing.T, got crm.Customer) {
				if len(got.Addresses) != 2 || !got.Addresses[0].Primary || got.Addresses[1].Primary || got.Addresses[1].Line1 != work.Line1 {
					t.Fatalf("addresses %+v", got.Addresses)
				}
			}},
		{"addresses: a survivor without any takes the duplicate's with its primary",
			crm.Customer{},
			crm.Customer{Profile: crm.Profile{Addresses: []crm.Address{work}}},
			func(t *testing.T, got crm.Customer) {
				if len(got.Addresses) != 1 || !got.Addresses[0].Primary {
					t.Fatalf("addresses %+v", got.Addresses)
				}
			}},
		{"type: the more identified; consent and state: the survivor's; enrolled: the earlier",
			crm.Customer{Profile: crm.Profile{Type: crm.TypeProspect}, State: crm.StatePending, EnrolledAt: late},
			crm.Customer{Profile: crm.Profile{Type: crm.TypeDirect, NewsletterConsent: true}, State: crm.StateActive, EnrolledAt: early},
			func(t *testing.T, got crm.Customer) {
				if got.Type != crm.TypeDirect || got.NewsletterConsent || got.State != crm.StatePending || !got.EnrolledAt.Equal(early) || !got.UpdatedAt.Equal(now) {
					t.Fatalf("got %+v", got)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := crm.Merge(tc.surv, tc.dup, now)
			tc.check(t, got)
			if _, err := got.Normalize(now, ""); err != nil {
				t.Fatalf("the merged profile does not validate: %v", err)
			}
		})
	}
}

func TestTombstone(t *testing.T) {
	now := time.Date(2025, 6, 10, 10, 0, 0, 0, time.UTC)
	c := crm.Customer{ID: "D", Profile: crm.Profile{GivenName: "Ana", Email: "a@x.es", Phone: "+34600000001"},
		State: crm.StateActive, Aliases: []crm.Unique{{"card", "C1"}}, Metrics: crm.Metrics{Revenue: 10}}
	got := c.Tombstone("S", now)
	if got.State != crm.StateMerged || got.MergedInto != "S" || len(got.Uniques()) != 0 || got.Metrics.Revenue != 0 || got.GivenName != "Ana" {
		t.Fatalf("tombstone %+v", got)
	}
}

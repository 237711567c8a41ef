package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/crm"
)

func TestCustomerLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.create(map[string]any{
		"given_name": "María José", "family_name": "García", "email": " MJ.Garcia@Example.com ",
		"phone": "+34 600 123 456", "tags": []string{"VIP"}, "attributes": map[string]string{"talla": "M"},
		"addresses": []map[string]any{{"line1": "Calle Mayor 1", "city": "Madrid", "country": "es"}},
		"birthday":  "1988-03-14", "newsletter_consent": true,
	})
	if c.Email != "mj.garcia@example.com" || c.Phone != "+34600123456" || c.State != "active" || c.Type != "direct" {
		t.Fatalf("created %+v", c)
	}
	// Every metric is present while zero.
	for _, k := range []string{"aov", "ltv", "revenue", "revenue_12m", "tickets", "tickets_12m", "margin", "margin_12m", "units", "last_visit_at", "first_purchase_at"} {
		if _, ok := c.Metrics[k]; !ok {
			t.Errorf("metric %s missing", k)
		}
	}
	if c.PointsBalance == nil || *c.PointsBalance != 0 || c.Metrics["currency"] != "EUR" {
		t.Errorf("points_balance/currency: %+v", c)
	}
	var got customer
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID, e.key, nil).decode(t, &got)
	if got.ID != c.ID || got.GivenName != "María José" {
		t.Fatalf("get %+v", got)
	}

	var patched customer
	e.must(http.StatusOK, "PATCH", "/v1/customers/"+c.ID, e.key, `{"favorite":true,"tags":null,"phone":"","attributes":{"talla":"L"}}`).decode(t, &patched)
	if !patched.Favorite || len(patched.Tags) != 0 || patched.Phone != "" || patched.Attributes["talla"] != "L" || patched.Email != c.Email {
		t.Fatalf("patched %+v", patched)
	}

	var s customer
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/suspend", e.key, nil).decode(t, &s)
	if s.State != "suspended" {
		t.Fatalf("suspend: %s", s.State)
	}
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/suspend", e.key, nil) // idempotent
	e.must(http.StatusOK, "POST", "/v1/customers/"+c.ID+"/reactivate", e.key, nil).decode(t, &s)
	if s.State != "active" {
		t.Fatalf("reactivate: %s", s.State)
	}

	e.must(http.StatusNoContent, "DELETE", "/v1/customers/"+c.ID, e.key, nil)
	e.must(http.StatusNotFound, "GET", "/v1/customers/"+c.ID, e.key, nil)
	e.must(http.StatusNotFound, "DELETE", "/v1/customers/"+c.ID, e.key, nil)
	// Re-enrolling starts a new profile from zero.
	again := e.create(map[string]any{"email": "mj.garcia@example.com"})
	if again.ID == c.ID {
		t.Fatal("re-enrolment reused the deleted profile")
	}
	if items := e.itemsOf(c.ID); len(items) != 0 {
		t.Fatalf("deleted customer left items behind: %v", items)
	}
}

func TestUniqueIdentifiers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.create(map[string]any{"email": "ana@example.com", "phone": "+34600000001", "card_number": "CARD-0001", "external_id": "pos-1"})
	for _, tc := range []struct {
		body map[string]any
		path string
	}{
		{map[string]any{"email": "ANA@example.com"}, "/email"},
		{map[string]any{"phone": "0034 600 000 001"}, "/phone"},
		{map[string]any{"card_number": "card0001"}, "/card_number"},
		{map[string]any{"external_id": "pos-1"}, "/external_id"},
	} {
		r := e.must(http.StatusConflict, "POST", "/v1/customers", e.key, tc.body)
		if r.problem.ExistingID != a.ID || !slices.Contains(r.paths(), tc.path) {
			t.Errorf("%v: problem %+v", tc.body, r.problem)
		}
	}
	b := e.create(map[string]any{"email": "bea@example.com"})
	r := e.must(http.StatusConflict, "PATCH", "/v1/customers/"+b.ID, e.key, map[string]any{"email": "ana@example.com"})
	if r.problem.ExistingID != a.ID {
		t.Fatalf("patch to a taken email: %+v", r.problem)
	}
	// Changing an identifier frees the old one.
	e.must(http.StatusOK, "PATCH", "/v1/customers/"+a.ID, e.key, map[string]any{"email": "ana.nueva@example.com"})
	e.must(http.StatusOK, "PATCH", "/v1/customers/"+b.ID, e.key, map[string]any{"email": "ana@example.com"})
	// Another merchant may have the same customer.
	_, otherKey := e.newMerchant("Otra Tienda")
	e.must(http.StatusCreated, "POST", "/v1/customers", otherKey, map[string]any{"email": "ana.nueva@example.com"})
}

func TestPatchRejectsComputedAndUnknownFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.create(map[string]any{"given_name": "Ana"})
	for _, tc := range []struct {
		body, path string
	}{
		{`{"ltv": 100}`, "/ltv"},
		{`{"points_balance": 5}`, "/points_balance"},
		{`{"metrics": {"aov": 1}}`, "/metrics"},
		{`{"id": "x"}`, "/id"},
		{`{"state": "suspended"}`, "/state"},
		{`{"enrolled_at": "2020-01-01T00:00:00Z"}`, "/enrolled_at"},
		{`{"nickname": "x"}`, "/nickname"},
		{`{"addresses": [{"line1": "a", "country": "ES", "floor": 3}]}`, "/addresses/0/floor"},
		{`{"favorite": "yes"}`, "/favorite"},
		{`{"tags": "vip"}`, "/tags"},
		{`{"type": null}`, "/type"},
	} {
		r := e.must(http.StatusBadRequest, "PATCH", "/v1/customers/"+c.ID, e.key, tc.body)
		if !slices.Contains(r.paths(), tc.path) {
			t.Errorf("%s: paths %v, want %s", tc.body, r.paths(), tc.path)
		}
	}
	var got customer
	e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID, e.key, nil).decode(t, &got)
	if got.GivenName != "Ana" || got.State != "active" {
		t.Fatalf("a rejected patch changed the customer: %+v", got)
	}
}

// seedListed creates customers straight in the store, with visits.
func (e *env) seedListed(t *testing.T) map[string]string {
	now := time.Now()
	ids := map[string]string{}
	for i, d := range []struct {
		given, family, email, phone string
		daysAgo                     int // -1: never
		enrolledDaysAgo             int
		tags                        []string
		favorite                    bool
		state                       crm.State
		typ                         crm.Type
		card                        string
	}{
		{"María José", "García", "mj@example.com", "+34600000001", 1, 100, []string{"VIP"}, true, crm.StateActive, crm.TypeDirect, "standard"},
		{"José", "Núñez", "jose@example.com", "+34600000002", 40, 50, nil, false, crm.StateActive, crm.TypeDirect, "partner"},
		{"Lucía", "Martínez", "lucia@example.com", "", 10, 10, []string{"vip"}, false, crm.StateSuspended, crm.TypeDirect, "standard"},
		{"Ana", "Jiménez", "", "+34600000004", -1, 5, nil, false, crm.StatePending, crm.TypeProspect, "standard"},
		{"Marta", "Josa", "marta@example.com", "", 3, 300, nil, true, crm.StateActive, crm.TypeDirect, "promo"},
	} {
		enrolled := now.AddDate(0, 0, -d.enrolledDaysAgo)
		c, err := crm.New(e.merchant.ID, crm.Enrolment{Profile: crm.Profile{GivenName: d.given, FamilyName: d.family,
			Email: d.email, Phone: d.phone, Tags: d.tags, Favorite: d.favorite, Type: d.typ, CardTemplate: d.card},
			EnrolledAt: &enrolled}, now)
		if err != nil {
			t.Fatal(err)
		}
		c.State = d.state
		if d.daysAgo >= 0 {
			v := now.Add(-time.Duration(d.daysAgo) * 24 * time.Hour)
			c.Metrics.LastVisitAt = &v
		}
		if err := e.store.CreateCustomer(t.Context(), c); err != nil {
			t.Fatal(i, err)
		}
		ids[d.given] = c.ID
	}
	return ids
}

type page struct {
	Data       []customer `json:"data"`
	NextCursor *string    `json:"next_cursor"`
}

func (e *env) list(query string) []string {
	e.t.Helper()
	var p page
	e.must(http.StatusOK, "GET", "/v1/customers"+query, e.key, nil).decode(e.t, &p)
	var names []string
	for _, c := range p.Data {
		names = append(names, c.GivenName)
	}
	return names
}

// searchMatches are the results of searches whose order has ties.
var searchMatches = map[string][]string{"jos": {"Marta", "María José", "José"}, "JOSE": {"María José", "José"}}

func TestListOrdersFiltersAndSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedListed(t)
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"", "María José,Marta,Lucía,José,Ana"}, // newest visit first, never-visited last
		{"?order=last_visit", "María José,Marta,Lucía,José,Ana"},
		{"?order=enrolled", "Ana,Lucía,José,María José,Marta"},
		{"?order=name", "Ana,José,Lucía,María José,Marta"},
		{"?activity=active", "María José,Marta,Lucía"},
		{"?activity=inactive", "José,Ana"},
		{"?activity=active&order=name", "Lucía,María José,Marta"},
		{"?state=suspended", "Lucía"},
		{"?state=pending", "Ana"},
		{"?type=prospect", "Ana"},
		{"?card=partner", "José"},
		{"?favorite=true", "María José,Marta"},
		{"?favorite=false&order=name", "Ana,José,Lucía"},
		{"?tag=VÍP", "María José,Lucía"},
		{"?q=jos", "Marta,*"}, // by matching word (josa < jose), then by customer ID
		{"?q=JOSE", "*"},
		{"?q=nunez", "José"},
		{"?q=mar", "María José,Marta,Lucía"}, // maria, marta, martinez
		{"?q=maria%20gar", "María José"},
		{"?q=jos&favorite=true", "Marta,María José"},
		{"?q=MJ@example.com", "María José"},
		{"?q=%2B34%20600%20000%20004", "Ana"},
		{"?q=nobody@example.com", ""},
		{"?q=zz", ""},
	} {
		got := e.list(tc.query)
		if strings.HasSuffix(tc.want, "*") { // ties in the search index: order by customer ID, unknown here
			want := strings.Split(strings.TrimSuffix(strings.TrimSuffix(tc.want, "*"), ","), ",")
			if want[0] == "" {
				want = nil
			}
			matches := searchMatches[strings.TrimPrefix(tc.query, "?q=")]
			if len(got) != len(matches) || !slices.Equal(got[:len(want)], want) {
				t.Errorf("GET /v1/customers%s = %v, want %v then the rest of %v", tc.query, got, want, matches)
			}
			for _, n := range matches {
				if !slices.Contains(got, n) {
					t.Errorf("GET /v1/customers%s = %v, missing %s", tc.query, got, n)
				}
			}
			continue
		}
		if got := strings.Join(got, ","); got != tc.want {
			t.Errorf("GET /v1/customers%s = %s, want %s", tc.query, got, tc.want)
		}
	}
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedListed(t)
	for _, query := range []string{"?limit=2", "?limit=2&order=name", "?limit=1&order=enrolled", "?limit=2&activity=active", "?limit=1&q=jos", "?limit=2&q=mar"} {
		full := e.list(queryWithout(query, "limit"))
		var got []string
		cursor := ""
		for range 10 {
			var p page
			e.must(http.StatusOK, "GET", "/v1/customers"+query+cursor, e.key, nil).decode(t, &p)
			for _, c := range p.Data {
				got = append(got, c.GivenName)
			}
			if p.NextCursor == nil {
				break
			}
			cursor = "&cursor=" + *p.NextCursor
		}
		if strings.Join(got, ",") != strings.Join(full, ",") {
			t.Errorf("%s paged = %v, unpaged = %v", query, got, full)
		}
	}
	// A cursor belongs to its list and its merchant.
	var p page
	e.must(http.StatusOK, "GET", "/v1/customers?limit=1", e.key, nil).decode(t, &p)
	r := e.must(http.StatusBadRequest, "GET", "/v1/customers?order=name&cursor="+*p.NextCursor, e.key, nil)
	if !slices.Contains(r.paths(), "?cursor") {
		t.Errorf("cursor of another list: %+v", r.problem)
	}
	_, otherKey := e.newMerchant("Otra")
	e.must(http.StatusBadRequest, "GET", "/v1/customers?limit=1&cursor="+*p.NextCursor, otherKey, nil)
	e.must(http.StatusBadRequest, "GET", "/v1/customers?cursor=garbage!", e.key, nil)
}

func queryWithout(query, param string) string {
	var kept []string
	for _, kv := range strings.Split(strings.TrimPrefix(query, "?"), "&") {
		if !strings.HasPrefix(kv, param+"=") {
			kept = append(kept, kv)
		}
	}
	if len(kept) == 0 {
		return ""
	}
	return "?" + strings.Join(kept, "&")
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := map[string]any{"email": "idem@example.com"}
	first := e.must(http.StatusCreated, "POST", "/v1/customers", e.key, body, header("Idempotency-Key", "k-1"))
	again := e.must(http.StatusCreated, "POST", "/v1/customers", e.key, body, header("Idempotency-Key", "k-1"))
	if string(first.body) != string(again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay differs:\n%s\n%s", first.body, again.body)
	}
	e.must(http.StatusUnprocessableEntity, "POST", "/v1/customers", e.key, map[string]any{"email": "other@example.com"}, header("Idempotency-Key", "k-1"))
	// The same key on another route is a different request too.
	e.must(http.StatusUnprocessableEntity, "POST", "/v1/api-keys", e.key, map[string]any{"scope": "read"}, header("Idempotency-Key", "k-1"))
	// A failed request's answer is kept as well: the retry does not re-run it.
	bad := e.must(http.StatusBadRequest, "POST", "/v1/customers", e.key, map[string]any{"email": "x"}, header("Idempotency-Key", "k-2"))
	badAgain := e.must(http.StatusBadRequest, "POST", "/v1/customers", e.key, map[string]any{"email": "x"}, header("Idempotency-Key", "k-2"))
	if string(bad.body) != string(badAgain.body) {
		t.Fatal("problem not replayed")
	}
	e.must(http.StatusBadRequest, "POST", "/v1/customers", e.key, body, header("Idempotency-Key", "bad key"))
	// Keys are per merchant.
	_, otherKey := e.newMerchant("Otra")
	e.must(http.StatusCreated, "POST", "/v1/customers", otherKey, body, header("Idempotency-Key", "k-1"))
	if n := len(e.list("?q=idem@example.com")); n != 1 {
		t.Fatalf("%d customers with the email", n)
	}
}

// Phones are read in the merchant's country (by default its time zone's):
// national input is accepted, one number has one spelling (so it is one
// customer), and numbers that are not valid for their country are refused.
func TestPhonesInTheMerchantsCountry(t *testing.T) {
	e := newEnv(t)
	var m struct {
		Country *string `json:"country"`
	}
	e.must(http.StatusOK, "GET", "/v1/merchant", e.key, nil).decode(t, &m)
	if m.Country == nil || *m.Country != "ES" {
		t.Fatalf("country %v, want ES (Europe/Madrid)", m.Country)
	}
	nacional := e.create(map[string]any{"given_name": "Nacional", "phone": "600 123 456"})
	if nacional.Phone != "+34600123456" {
		t.Fatalf("national phone stored as %q", nacional.Phone)
	}
	var found struct {
		Data []customer `json:"data"`
	}
	e.must(http.StatusOK, "GET", "/v1/customers?q=600%2012%2034%2056", e.key, nil).decode(t, &found)
	if len(found.Data) != 1 || found.Data[0].ID != nacional.ID {
		t.Fatalf("search by the national number: %+v", found.Data)
	}
	uk := e.create(map[string]any{"given_name": "Trunk", "phone": "+44 07911 123456"})
	if uk.Phone != "+447911123456" {
		t.Fatalf("+44 07911 123456 stored as %q", uk.Phone)
	}
	r := e.must(http.StatusConflict, "POST", "/v1/customers", e.key, map[string]any{"phone": "+447911123456"})
	if !strings.Contains(string(r.body), uk.ID) {
		t.Fatalf("the same number is another customer: %s", r.body)
	}
	for _, bad := range []string{"+34 12345", "12345", "+34 600 123 456 789"} {
		if got := e.must(http.StatusBadRequest, "POST", "/v1/customers", e.key, map[string]any{"phone": bad}).paths(); !slices.Equal(got, []string{"/phone"}) {
			t.Fatalf("%q: paths %v", bad, got)
		}
	}
	var patched customer
	e.must(http.StatusOK, "PATCH", "/v1/customers/"+uk.ID, e.key, map[string]any{"phone": "699 11 22 33"}).decode(t, &patched)
	if patched.Phone != "+34699112233" {
		t.Fatalf("patched phone %q", patched.Phone)
	}
}

package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/erasure"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/jobs"
	"github.com/regulars/regulars/internal/loyalty"
)

// addressJSON is an address as answered, with its id; on input the id is
// ignored (it is computed from the address), so that addresses read can be
// sent back as they are.
type addressJSON struct {
	ID         string `json:"id,omitzero"`
	Label      string `json:"label"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	Region     string `json:"region"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
	Primary    bool   `json:"primary"`
}

// profileJSON is the writable part of the customer representation.
type profileJSON struct {
	ExternalID        string            `json:"external_id"`
	CardNumber        string            `json:"card_number"`
	CardTemplate      string            `json:"card_template"`
	GivenName         string            `json:"given_name"`
	FamilyName        string            `json:"family_name"`
	Email             string            `json:"email"`
	Phone             string            `json:"phone"`
	DocumentNumber    string            `json:"document_number"`
	Birthday          string            `json:"birthday"`
	DeviceType        string            `json:"device_type"`
	Tags              []string          `json:"tags"`
	Favorite          bool              `json:"favorite"`
	Attributes        map[string]string `json:"attributes"`
	Addresses         []addressJSON     `json:"addresses"`
	Type              crm.Type          `json:"type"`
	NewsletterConsent bool              `json:"newsletter_consent"`
}

func (p profileJSON) profile() crm.Profile {
	addrs := make([]crm.Address, len(p.Addresses))
	for i, a := range p.Addresses {
		addrs[i] = a.address()
	}
	return crm.Profile{ExternalID: p.ExternalID, CardNumber: p.CardNumber, CardTemplate: p.CardTemplate,
		GivenName: p.GivenName, FamilyName: p.FamilyName, Email: p.Email, Phone: p.Phone,
		DocumentNumber: p.DocumentNumber, Birthday: p.Birthday, DeviceType: p.DeviceType, Tags: p.Tags,
		Favorite: p.Favorite, Attributes: p.Attributes, Addresses: addrs, Type: p.Type, NewsletterConsent: p.NewsletterConsent}
}

// metricsJSON carries every metric, zero until purchases arrive. Money is in
// minor units of currency.
type metricsJSON struct {
	Currency           string     `json:"currency"`
	AOV                int64      `json:"aov"`
	LTV                int64      `json:"ltv"`
	Revenue            int64      `json:"revenue"`
	Revenue12M         int64      `json:"revenue_12m"`
	Tickets            int64      `json:"tickets"`
	Tickets12M         int64      `json:"tickets_12m"`
	Margin             int64      `json:"margin"`
	Margin12M          int64      `json:"margin_12m"`
	Units              int64      `json:"units"`
	LastVisitAt        *time.Time `json:"last_visit_at"`
	DaysSinceLastVisit *int64     `json:"days_since_last_visit"`
	FirstPurchaseAt    *time.Time `json:"first_purchase_at"`
	FirstStore         string     `json:"first_store"`
	AveragePrice       int64      `json:"average_price"` // revenue per unit
	FavoriteLocation   string     `json:"favorite_location"`
	LastProducts       []string   `json:"last_products"` // of the last ticket
}

type customerJSON struct {
	ID string `json:"id"`
	profileJSON
	State         crm.State   `json:"state"`
	Active        bool        `json:"active"`
	PointsBalance int64       `json:"points_balance"`
	Metrics       metricsJSON `json:"metrics"`
	EnrolledAt    time.Time   `json:"enrolled_at"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
	// Only on a merged duplicate: the customer it was merged into.
	MergedInto string `json:"merged_into,omitempty"`
	// Only when duplicates were merged into the customer: their identifiers.
	Aliases []aliasJSON `json:"aliases,omitempty"`
}

type aliasJSON struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// readOnlyMembers are in the representation but never written by clients.
var readOnlyMembers = []string{"id", "active", "points_balance", "metrics", "created_at", "updated_at",
	"aov", "ltv", "revenue", "tickets", "last_visit_at", "merged_into", "aliases"}

func customerOf(c crm.Customer, currency string, now time.Time) customerJSON {
	addrs := make([]addressJSON, len(c.Addresses))
	for i, a := range c.Addresses {
		addrs[i] = addressOf(a)
	}
	m := c.Metrics
	var days *int64
	if m.LastVisitAt != nil {
		d := int64(now.Sub(*m.LastVisitAt) / (24 * time.Hour))
		days = &d
	}
	var aliases []aliasJSON
	for _, a := range c.Aliases {
		kind := a.Kind
		if kind == "card" {
			kind = "card_number" // the API's name of the field
		}
		aliases = append(aliases, aliasJSON{Kind: kind, Value: a.Value})
	}
	return customerJSON{
		ID: c.ID, MergedInto: c.MergedInto, Aliases: aliases,
		profileJSON: profileJSON{ExternalID: c.ExternalID, CardNumber: c.CardNumber, CardTemplate: c.CardTemplate,
			GivenName: c.GivenName, FamilyName: c.FamilyName, Email: c.Email, Phone: c.Phone,
			DocumentNumber: c.DocumentNumber, Birthday: c.Birthday, DeviceType: c.DeviceType, Tags: c.Tags,
			Favorite: c.Favorite, Attributes: c.Attributes, Addresses: addrs, Type: c.Type, NewsletterConsent: c.NewsletterConsent},
		State: c.State, Active: c.Active(now), PointsBalance: m.PointsBalance,
		Metrics: metricsJSON{Currency: currency, AOV: m.AOV(), LTV: m.Revenue, Revenue: m.Revenue, Revenue12M: m.Revenue12M,
			Tickets: m.Tickets, Tickets12M: m.Tickets12M, Margin: m.Margin, Margin12M: m.Margin12M, Units: m.Units,
			LastVisitAt: m.LastVisitAt, DaysSinceLastVisit: days, FirstPurchaseAt: m.FirstPurchaseAt, FirstStore: m.FirstStore,
			AveragePrice: m.AveragePrice(), FavoriteLocation: m.FavoriteLocation(), LastProducts: m.LastProducts},
		EnrolledAt: c.EnrolledAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

type createCustomerJSON struct {
	profileJSON
	State      crm.State  `json:"state"`
	EnrolledAt *time.Time `json:"enrolled_at"`
}

func (s *Server) createCustomer(ctx context.Context, r *request) (response, error) {
	var in createCustomerJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in, readOnlyMembers...); err != nil {
		return response{}, err
	}
	c, err := crm.New(r.merchant.ID, crm.Enrolment{Profile: in.profile(), State: in.State, EnrolledAt: in.EnrolledAt, Region: r.merchant.Country, Source: "api"}, r.now)
	if err != nil {
		return response{}, err
	}
	if err := s.store.CreateCustomer(ctx, c); err != nil {
		return response{}, err
	}
	res, err := s.points.AwardSignup(ctx, c, loyalty.EnrolAPI, r.actor())
	if err != nil {
		return response{}, err
	}
	if n := len(res.Entries); n > 0 {
		c.Metrics.PointsBalance = res.Entries[n-1].BalanceAfter
	}
	resp := jsonResponse(http.StatusCreated, customerOf(c, r.merchant.Currency, r.now))
	resp.headers["Location"] = "/v1/customers/" + c.ID
	return resp, nil
}

// customerID validates the path parameter; a malformed ID cannot exist.
func customerID(r *request) (string, error) {
	cid := r.path["customerId"]
	if !ids.Valid(cid) {
		return "", apperr.New(apperr.NotFound, "customer not found")
	}
	return cid, nil
}

func (s *Server) getCustomer(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	c, err := s.store.Customer(ctx, r.merchant.ID, cid)
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, customerOf(c, r.merchant.Currency, r.now)), nil
}

// patchJSON decodes a PATCH body; presence and null are read separately.
type patchJSON struct {
	profileJSON
	State      *crm.State `json:"state"`
	EnrolledAt *time.Time `json:"enrolled_at"`
}

func (s *Server) updateCustomer(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	var in patchJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in, readOnlyMembers...); err != nil {
		return response{}, err
	}
	present, err := presentMembers(r.body)
	if err != nil {
		return response{}, err
	}
	if _, ok := present["state"]; ok {
		return response{}, apperr.Field("/state", "changes through POST /v1/customers/{id}/suspend or /reactivate")
	}
	if _, ok := present["enrolled_at"]; ok {
		return response{}, apperr.Field("/enrolled_at", "is set once, at enrolment")
	}
	if present["type"] { // null
		return response{}, apperr.Field("/type", "cannot be null")
	}
	p := in.profile()
	var pt crm.Patch
	// A present member sets the field; null clears it (the zero value).
	field := func(name string) bool { _, ok := present[name]; return ok }
	strp := func(name string, v *string) *string {
		if field(name) {
			return v
		}
		return nil
	}
	pt.ExternalID = strp("external_id", &p.ExternalID)
	pt.CardNumber = strp("card_number", &p.CardNumber)
	pt.CardTemplate = strp("card_template", &p.CardTemplate)
	pt.GivenName = strp("given_name", &p.GivenName)
	pt.FamilyName = strp("family_name", &p.FamilyName)
	pt.Email = strp("email", &p.Email)
	pt.Phone = strp("phone", &p.Phone)
	pt.DocumentNumber = strp("document_number", &p.DocumentNumber)
	pt.Birthday = strp("birthday", &p.Birthday)
	pt.DeviceType = strp("device_type", &p.DeviceType)
	if field("tags") {
		pt.Tags = &p.Tags
	}
	if field("favorite") {
		pt.Favorite = &p.Favorite
	}
	if field("attributes") {
		pt.Attributes = &p.Attributes
	}
	if field("addresses") {
		pt.Addresses = &p.Addresses
	}
	if field("type") {
		pt.Type = &p.Type
	}
	if field("newsletter_consent") {
		pt.NewsletterConsent = &p.NewsletterConsent
	}
	// The change is timed when it is written: each attempt takes the time
	// again, so a retry after a concurrent write is not dated before it.
	pt.Region, pt.Source = r.merchant.Country, "api"
	c, err := s.store.UpdateCustomer(ctx, r.merchant.ID, cid, func(c crm.Customer) (crm.Customer, error) {
		return pt.Apply(c, s.now())
	})
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, customerOf(c, r.merchant.Currency, r.now)), nil
}

func (s *Server) deleteCustomer(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	mid := r.merchant.ID
	err = s.store.DeleteCustomer(ctx, mid, cid)
	if apperr.CodeOf(err) == apperr.NotFound {
		// Deleted before: finish what that deletion may have left.
		if _, _, eerr := s.store.EraseCustomerData(ctx, mid, cid, inlineErasure); eerr != nil {
			return response{}, eerr
		}
		return response{}, err
	}
	if err != nil {
		return response{}, err
	}
	if _, done, err := s.store.EraseCustomerData(ctx, mid, cid, inlineErasure); err != nil || done {
		return noContent(), err
	}
	// A long history: the customer is gone already; a job erases the rest.
	if err := s.jobsConfigured(); err != nil {
		return response{}, err
	}
	j, err := jobs.New(mid, jobs.Erasure, erasure.Params{CustomerID: cid}, r.actor(), r.now)
	if err != nil {
		return response{}, err
	}
	if j, err = jobs.Enqueue(ctx, s.store, s.jobQueue, j); err != nil {
		return response{}, err
	}
	return s.jobResponse(ctx, http.StatusAccepted, j)
}

// inlineErasure is how many of a deleted customer's items the DELETE
// request erases itself; a longer history is left to an erasure job.
const inlineErasure = 1000

func (s *Server) suspendCustomer(ctx context.Context, r *request) (response, error) {
	return s.transition(ctx, r, crm.Customer.Suspend)
}

func (s *Server) reactivateCustomer(ctx context.Context, r *request) (response, error) {
	return s.transition(ctx, r, crm.Customer.Reactivate)
}

func (s *Server) transition(ctx context.Context, r *request, to func(crm.Customer, time.Time) (crm.Customer, error)) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	if len(r.body) > 0 {
		var none struct{}
		if err := decodeJSON(r.body, r.header("Content-Type"), &none); err != nil {
			return response{}, err
		}
	}
	c, err := s.store.UpdateCustomer(ctx, r.merchant.ID, cid, func(c crm.Customer) (crm.Customer, error) { return to(c, s.now()) })
	if err != nil {
		return response{}, err
	}
	return jsonResponse(http.StatusOK, customerOf(c, r.merchant.Currency, r.now)), nil
}

type listJSON struct {
	Data       []customerJSON `json:"data"`
	NextCursor *string        `json:"next_cursor"`
}

func (s *Server) listCustomers(ctx context.Context, r *request) (response, error) {
	q, err := parseListQuery(r.query, r.now)
	if err != nil {
		return response{}, err
	}
	q = q.WithNationalPhone(r.query["q"], r.merchant.Country)
	page, err := s.store.ListCustomers(ctx, r.merchant.ID, q)
	if err != nil {
		return response{}, err
	}
	return customerPage(r, page), nil
}

// customerPage answers a page of customers.
func customerPage(r *request, page crm.Page) response {
	out := listJSON{Data: make([]customerJSON, len(page.Customers))}
	for i, c := range page.Customers {
		out.Data[i] = customerOf(c, r.merchant.Currency, r.now)
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return jsonResponse(http.StatusOK, out)
}

// knownSegment refuses a segment filter (at path) that names no segment of
// the merchant: an export of it would queue a job for an empty file without
// saying why. (The list answers such an id with an empty page, as the spec
// says: a segment deleted while its members are paged is no error.)
func (s *Server) knownSegment(ctx context.Context, r *request, id, path string) error {
	if id == "" {
		return nil
	}
	segs, err := s.store.Segments(ctx, r.merchant.ID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(segs, func(seg analytics.Segment) bool { return seg.ID == id }) {
		return apperr.Field(path, "is not a segment of this merchant")
	}
	return nil
}

// listFilters are the filters of GET /v1/customers (besides its page).
var listFilters = []string{"order", "activity", "state", "type", "card", "favorite", "tag", "q", "segment",
	"ltv_min", "ltv_max", "balance_min", "balance_max", "last_visit_from", "last_visit_to", "newsletter_consent"}

// parseListRanges reads the list's range filters: ltv_min/ltv_max (minor
// units), balance_min/balance_max (points), last_visit_from/last_visit_to
// (as a report's from and to); each minimum not above its maximum.
func parseListRanges(params map[string]string, fe *apperr.Fields) crm.Ranges {
	var r crm.Ranges
	ints := []struct {
		lo, hi   string
		min, max **int64
		what     string
	}{{"ltv_min", "ltv_max", &r.LTVMin, &r.LTVMax, "an integer amount in minor units"},
		{"balance_min", "balance_max", &r.BalanceMin, &r.BalanceMax, "an integer number of points"}}
	for _, b := range ints {
		for name, dst := range map[string]**int64{b.lo: b.min, b.hi: b.max} {
			if v, ok := params[name]; ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					fe.Add("?"+name, "must be %s", b.what)
					continue
				}
				*dst = &n
			}
		}
		if *b.min != nil && *b.max != nil && **b.min > **b.max {
			fe.Add("?"+b.hi, "must not be below %s", b.lo)
		}
	}
	for name, dst := range map[string]**time.Time{"last_visit_from": &r.LastVisitFrom, "last_visit_to": &r.LastVisitTo} {
		if v, ok := params[name]; ok {
			t, ok := parseInstant(v, name == "last_visit_to")
			if !ok {
				fe.Add("?"+name, "must be a date YYYY-MM-DD or an RFC 3339 time")
				continue
			}
			*dst = &t
		}
	}
	if r.LastVisitFrom != nil && r.LastVisitTo != nil && r.LastVisitTo.Before(*r.LastVisitFrom) {
		fe.Add("?last_visit_to", "must not be before last_visit_from")
	}
	return r
}

func parseListQuery(params map[string]string, now time.Time) (crm.Query, error) {
	page, err := parsePage(params, listFilters...)
	var fe apperr.Fields
	fe.Merge("", err)
	q := crm.Query{Order: crm.OrderLastVisit, Limit: page.limit, Now: now, Cursor: page.cursor}
	enumParam(params, &fe, "order", &q.Order, crm.OrderLastVisit, crm.OrderEnrolled, crm.OrderName, crm.OrderLTV, crm.OrderBalance)
	enumParam(params, &fe, "activity", &q.Activity, crm.ActivityActive, crm.ActivityInactive)
	enumParam(params, &fe, "state", &q.State, crm.StatePending, crm.StateActive, crm.StateSuspended)
	enumParam(params, &fe, "type", &q.Type, crm.TypeAnonymous, crm.TypeProspect, crm.TypeDirect)
	q.CardTemplate = params["card"]
	if v, ok := params["favorite"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			fe.Add("?favorite", "must be true or false")
		}
		q.Favorite = &b
	}
	if v, ok := params["newsletter_consent"]; ok {
		consent, err := parseConsent(v)
		if err != nil {
			fe.Add("?newsletter_consent", "%s", err.Error())
		}
		q.NewsletterConsent = consent
	}
	if v, ok := params["tag"]; ok {
		if q.Tag = crm.Fold(v); q.Tag == "" {
			fe.Add("?tag", "must contain a letter or digit")
		}
	}
	if v, ok := params["segment"]; ok {
		switch {
		case !ids.Valid(v):
			fe.Add("?segment", "must be a segment ID")
		case params["q"] != "":
			fe.Add("?segment", "cannot be combined with a search (q)")
		}
		q.Segment = v
	}
	q.Ranges = parseListRanges(params, &fe)
	if v, ok := params["q"]; ok {
		search, kind, err := crm.ParseSearch(v)
		if !fe.Merge("", err) && err != nil {
			return crm.Query{}, err
		}
		q.Search, q.SearchKind = search, kind
	}
	if err := fe.Err(); err != nil {
		return crm.Query{}, err
	}
	return q, nil
}

// parseConsent reads the newsletter_consent filter: true or false, or any
// (both; what an e-mail export must ask for to list customers without
// consent).
func parseConsent(v string) (*bool, error) {
	if v == "any" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil || (v != "true" && v != "false") {
		return nil, errors.New("must be true, false or any")
	}
	return &b, nil
}

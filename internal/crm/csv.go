package crm

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Columns names a column set of the customer CSV.
type Columns string

// Column sets: the full profile with its metrics, or the e-mail addresses
// (for an e-mail tool).
const (
	ColumnsFull   Columns = "full"
	ColumnsEmails Columns = "emails"
)

// ProfileColumns are the columns of the CSV that a merchant writes; an
// import reads these (and PointsColumn), an export writes them first. Lists
// are joined with TagSeparator; attributes are a JSON object; the address
// columns are the primary address.
var ProfileColumns = []string{
	"id", "external_id", "card_number", "card_template", "given_name", "family_name", "email", "phone",
	"document_number", "birthday", "device_type", "tags", "favorite", "newsletter_consent", "type", "state",
	"enrolled_at", "attributes", "address_label", "address_line1", "address_line2", "address_city",
	"address_region", "address_postal_code", "address_country",
}

// MetricColumns follow the profile in a full export, named as the API's
// metrics (ltv is the all-time revenue, as in the API). Amounts are integer
// minor units of the currency column, as in the API; times are RFC 3339 UTC.
// An import skips them (but points_balance, see PointsColumn).
var MetricColumns = []string{
	"currency", "points_balance", "ltv", "revenue", "revenue_12m", "tickets", "tickets_12m", "aov", "margin", "margin_12m",
	"first_purchase_at", "first_store", "last_visit_at", "active",
}

// PointsColumn is the metric column an import reads: the balance to open.
const PointsColumn = "points_balance"

// TagSeparator joins tags in one cell (a tag cannot contain it).
const TagSeparator = "|"

// CSVHeader returns the header row of a column set.
func CSVHeader(cols Columns) []string {
	if cols == ColumnsEmails {
		return []string{"email", "given_name", "family_name", "newsletter_consent"}
	}
	return append(append([]string{}, ProfileColumns...), MetricColumns...)
}

// CSVRecord returns a customer's row of a column set; now decides "active".
func CSVRecord(cols Columns, c Customer, currency string, now time.Time) []string {
	if cols == ColumnsEmails {
		return []string{c.Email, c.GivenName, c.FamilyName, strconv.FormatBool(c.NewsletterConsent)}
	}
	var a Address
	for _, x := range c.Addresses {
		if x.Primary {
			a = x
		}
	}
	attrs := ""
	if len(c.Attributes) > 0 {
		b, _ := json.Marshal(c.Attributes) // a map of strings always marshals
		attrs = string(b)
	}
	m := c.Metrics
	return []string{
		c.ID, c.ExternalID, c.CardNumber, c.CardTemplate, c.GivenName, c.FamilyName, c.Email, c.Phone,
		c.DocumentNumber, c.Birthday, c.DeviceType, strings.Join(c.Tags, TagSeparator), strconv.FormatBool(c.Favorite),
		strconv.FormatBool(c.NewsletterConsent), string(c.Type), string(c.State), csvTime(&c.EnrolledAt), attrs,
		a.Label, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country,
		currency, itoa64(m.PointsBalance), itoa64(m.Revenue), itoa64(m.Revenue), itoa64(m.Revenue12M), itoa64(m.Tickets), itoa64(m.Tickets12M),
		itoa64(m.AOV()), itoa64(m.Margin), itoa64(m.Margin12M), csvTime(m.FirstPurchaseAt), m.FirstStore, csvTime(m.LastVisitAt),
		strconv.FormatBool(c.Active(now)),
	}
}

func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// ColumnChange is one profile column a change of a customer moved, in the
// CSV's representation.
type ColumnChange struct {
	Column string `json:"column" dynamodbav:"column"`
	Old    string `json:"old" dynamodbav:"old"`
	New    string `json:"new" dynamodbav:"new"`
}

// ColumnChanges lists the profile columns (ProfileColumns, the ones an
// import writes) whose cells differ between two versions of a customer.
func ColumnChanges(a, b Customer) []ColumnChange {
	ra, rb := CSVRecord(ColumnsFull, a, "", time.Time{}), CSVRecord(ColumnsFull, b, "", time.Time{})
	var out []ColumnChange
	for i, col := range ProfileColumns {
		if ra[i] != rb[i] {
			out = append(out, ColumnChange{Column: col, Old: ra[i], New: rb[i]})
		}
	}
	return out
}

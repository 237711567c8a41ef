package crm

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
)

// VisitType says what a customer did at a visit.
type VisitType string

// Visit types.
const (
	VisitAccrual    VisitType = "accrual"    // bought and earned
	VisitRedemption VisitType = "redemption" // redeemed points or a reward
)

// Visit is one visit of a customer to a location.
type Visit struct {
	ID       string
	At       time.Time
	Location string
	Type     VisitType
	Source   string // what recorded it, e.g. "reward:<id>"
}

// Event is one entry of a customer's history that is neither a purchase nor
// a ledger movement: badge changes, profile changes, external interactions.
type Event struct {
	ID   string
	Type string // e.g. badge_gained, badge_lost
	At   time.Time
	Data map[string]string
}

// ChangedFields names the profile fields (as the API spells them) and the
// state that differ between two versions of a customer: the profile-change
// event of the timeline.
func ChangedFields(a, b Customer) []string {
	var out []string
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	pa, pb := a.Profile, b.Profile
	add("external_id", pa.ExternalID != pb.ExternalID)
	add("card_number", pa.CardNumber != pb.CardNumber)
	add("card_template", pa.CardTemplate != pb.CardTemplate)
	add("given_name", pa.GivenName != pb.GivenName)
	add("family_name", pa.FamilyName != pb.FamilyName)
	add("email", pa.Email != pb.Email)
	add("phone", pa.Phone != pb.Phone)
	add("document_number", pa.DocumentNumber != pb.DocumentNumber)
	add("birthday", pa.Birthday != pb.Birthday)
	add("device_type", pa.DeviceType != pb.DeviceType)
	add("tags", !slices.Equal(pa.Tags, pb.Tags))
	add("favorite", pa.Favorite != pb.Favorite)
	add("attributes", !maps.Equal(pa.Attributes, pb.Attributes))
	add("addresses", !slices.Equal(pa.Addresses, pb.Addresses))
	add("type", pa.Type != pb.Type)
	add("newsletter_consent", pa.NewsletterConsent != pb.NewsletterConsent)
	add("state", a.State != b.State)
	return out
}

// ConsentEvent is the timeline event of a change of newsletter consent from
// old to c (old is the zero Customer for a new one): consent_given or
// consent_withdrawn, at c's update, with what wrote it (c.Source).
func ConsentEvent(old, c Customer) (Event, bool) {
	if old.NewsletterConsent == c.NewsletterConsent {
		return Event{}, false
	}
	typ := "consent_given"
	if !c.NewsletterConsent {
		typ = "consent_withdrawn"
	}
	data := map[string]string{"channel": "newsletter"}
	if c.Source != "" {
		data["source"] = c.Source
	}
	return Event{ID: ids.New(c.UpdatedAt), Type: typ, At: c.UpdatedAt.UTC(), Data: data}, true
}

// Interaction limits.
const (
	maxEventData     = 20
	maxEventValueLen = 500
)

var eventType = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)

// NewInteraction validates an external interaction a merchant records on a
// customer's timeline (a campaign email delivered, opened or clicked; a form
// answer…).
func NewInteraction(typ string, at time.Time, data map[string]string, now time.Time) (Event, error) {
	var fe apperr.Fields
	if !eventType.MatchString(typ) || strings.HasPrefix(typ, "badge_") || strings.HasPrefix(typ, "profile_") || strings.HasPrefix(typ, "segment_") ||
		strings.HasPrefix(typ, "consent_") || typ == "customer_merged" {
		fe.Add("/type", "must be a lower-case code such as campaign_email_opened (badge_, profile_, segment_, consent_ and customer_merged are reserved)")
	}
	if at.IsZero() {
		at = now
	} else if at.After(now.Add(5 * time.Minute)) {
		fe.Add("/occurred_at", "must not be in the future")
	}
	if len(data) > maxEventData {
		fe.Add("/data", "must hold at most %d keys", maxEventData)
	}
	for k, v := range data {
		if !attributeKey.MatchString(k) {
			fe.Add("/data/"+apperr.PointerToken(k), "keys must be 1 to 64 letters, digits, '_', '.' or '-'")
		} else if len(v) > maxEventValueLen || HasControl(v) {
			fe.Add("/data/"+apperr.PointerToken(k), "must be at most %d characters without control characters", maxEventValueLen)
		}
	}
	if err := fe.Err(); err != nil {
		return Event{}, err
	}
	if data == nil {
		data = map[string]string{}
	}
	return Event{ID: ids.New(now), Type: typ, At: at.UTC(), Data: data}, nil
}

package crm

import (
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
)

// Enrolment is what a merchant supplies to create a customer.
type Enrolment struct {
	Profile
	State      State      // pending or active; default active
	EnrolledAt *time.Time // default now; may be in the past for imported customers
	Region     string     // the merchant's country (ISO 3166-1 alpha-2): a national phone number is read in it
	Source     string     // how the customer enrols (api, card, import, purchase): see Customer.Source
}

// New validates an enrolment and returns the new customer.
func New(merchantID string, e Enrolment, now time.Time) (Customer, error) {
	var fe apperr.Fields
	p, err := e.Profile.Normalize(now, e.Region)
	if err != nil && !fe.Merge("", err) {
		return Customer{}, err
	}
	switch e.State {
	case "":
		e.State = StateActive
	case StatePending, StateActive:
	case StateSuspended:
		fe.Add("/state", "a new customer cannot start suspended")
	default:
		fe.Add("/state", "must be pending or active")
	}
	enrolled := now
	if e.EnrolledAt != nil {
		if e.EnrolledAt.After(now.Add(MaxClockSkew)) {
			fe.Add("/enrolled_at", "must not be in the future")
		}
		enrolled = *e.EnrolledAt
	}
	if err := fe.Err(); err != nil {
		return Customer{}, err
	}
	now = now.UTC()
	return Customer{
		ID:         ids.New(now),
		MerchantID: merchantID,
		Profile:    p,
		State:      e.State,
		EnrolledAt: enrolled.UTC(),
		CreatedAt:  now,
		UpdatedAt:  now,
		Source:     e.Source,
	}, nil
}

// Patch changes some writable fields of a profile; a nil field is left as it
// is. Clearing is done with the zero value ("" / false / empty list or map).
type Patch struct {
	ExternalID        *string
	CardNumber        *string
	CardTemplate      *string
	GivenName         *string
	FamilyName        *string
	Email             *string
	Phone             *string
	DocumentNumber    *string
	Birthday          *string
	DeviceType        *string
	Tags              *[]string
	Favorite          *bool
	Attributes        *map[string]string
	Addresses         *[]Address
	Type              *Type
	NewsletterConsent *bool
	// Region is the merchant's country: a national phone number is read in it.
	Region string
	// Source is what writes the change (api, import): see Customer.Source.
	Source string
}

// Apply returns c with the patch applied and validated.
func (pt Patch) Apply(c Customer, now time.Time) (Customer, error) {
	p := c.Profile
	set(&p.ExternalID, pt.ExternalID)
	set(&p.CardNumber, pt.CardNumber)
	set(&p.CardTemplate, pt.CardTemplate)
	set(&p.GivenName, pt.GivenName)
	set(&p.FamilyName, pt.FamilyName)
	set(&p.Email, pt.Email)
	set(&p.Phone, pt.Phone)
	set(&p.DocumentNumber, pt.DocumentNumber)
	set(&p.Birthday, pt.Birthday)
	set(&p.DeviceType, pt.DeviceType)
	set(&p.Tags, pt.Tags)
	set(&p.Favorite, pt.Favorite)
	set(&p.Attributes, pt.Attributes)
	set(&p.Addresses, pt.Addresses)
	set(&p.Type, pt.Type)
	set(&p.NewsletterConsent, pt.NewsletterConsent)
	if pt.Type != nil && *pt.Type == "" {
		return Customer{}, apperr.Field("/type", "must be one of anonymous, prospect, direct")
	}
	kept := ""
	if pt.Phone == nil { // a stored phone stands as it is: only a new one is checked (old ones: dynamo.Store.MigratePhones)
		kept, p.Phone = p.Phone, ""
	}
	p, err := p.Normalize(now, pt.Region)
	if err != nil {
		return Customer{}, err
	}
	if kept != "" {
		p.Phone = kept
	}
	c.Profile = p
	c.UpdatedAt = c.changedAt(now)
	c.Source = pt.Source
	return c, nil
}

// changedAt is the updated_at of a change of c made at now: now, or just
// after c's last change when now is not later (another writer's clock ran
// ahead, or it committed first), so that updated_at never goes backwards and
// the timeline keeps the changes in the order they were written.
func (c Customer) changedAt(now time.Time) time.Time {
	if t := now.UTC(); t.After(c.UpdatedAt) {
		return t
	}
	return c.UpdatedAt.UTC().Add(time.Microsecond)
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Suspend stops a customer from earning and redeeming without deleting anything.
func (c Customer) Suspend(now time.Time) (Customer, error) {
	if c.State == StateSuspended {
		return c, nil // idempotent
	}
	c.State = StateSuspended
	c.UpdatedAt = c.changedAt(now)
	return c, nil
}

// Reactivate makes a suspended or pending customer active again.
func (c Customer) Reactivate(now time.Time) (Customer, error) {
	if c.State == StateActive {
		return c, nil // idempotent
	}
	c.State = StateActive
	c.UpdatedAt = c.changedAt(now)
	return c, nil
}

package crm

import "slices"

// PhoneChange is one stored phone number met by a phone migration.
type PhoneChange struct {
	CustomerID string
	From       string // as stored
	To         string // canonical; "" when From is not a valid number
	HeldBy     string // a collision: the customer who already holds To
}

// CanonicalPhones returns c with its phone and the phones of its aliases
// (merged duplicates) in the form NormalizePhone gives them in region, and
// the stored numbers that are not valid, which stay as they are for the
// merchant to correct.
func CanonicalPhones(c Customer, region string) (Customer, []PhoneChange) {
	var invalid []PhoneChange
	canon := func(v string) string {
		if v == "" {
			return v
		}
		p, err := NormalizePhone(v, region)
		if err != nil {
			invalid = append(invalid, PhoneChange{CustomerID: c.ID, From: v})
			return v
		}
		return p
	}
	c.Phone = canon(c.Phone)
	if len(c.Aliases) > 0 {
		aliases := make([]Unique, 0, len(c.Aliases))
		for _, a := range c.Aliases {
			if a.Kind == "phone" {
				a.Value = canon(a.Value)
				if a.Value == c.Phone || slices.Contains(aliases, a) {
					continue // now the same number as another of theirs
				}
			}
			aliases = append(aliases, a)
		}
		c.Aliases = aliases
	}
	return c, invalid
}

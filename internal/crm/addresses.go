package crm

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// ID names an address among a customer's: derived from what it says (not
// from whether it is primary), so it needs no storage and two equal
// addresses are one.
func (a Address) ID() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{a.Label, a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country}, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// AddAddress returns c with a added, validated and normalised as the whole
// profile is (errors at the paths of the address itself, "/line1"); a
// primary address takes the flag from the others. An address the customer
// already has is not added again: added is false, and only the primary flag
// can change.
func (c Customer) AddAddress(a Address, now time.Time) (_ Customer, added bool, _ error) {
	var fe apperr.Fields
	primary := a.Primary // normalising one address alone makes it primary
	one := normalizeAddresses([]Address{a}, &fe)
	if len(fe) > 0 {
		for i := range fe {
			fe[i].Path = strings.TrimPrefix(fe[i].Path, "/addresses/0")
		}
		return Customer{}, false, fe.Err()
	}
	a = one[0]
	a.Primary = primary
	addrs := slices.Clone(c.Addresses)
	i := slices.IndexFunc(addrs, func(x Address) bool { return x.ID() == a.ID() })
	added = i < 0
	if added {
		if len(addrs) >= MaxAddresses {
			return Customer{}, false, apperr.New(apperr.Unprocessable, "the customer has %d addresses already: remove one first", MaxAddresses)
		}
		addrs, i = append(addrs, a), len(addrs)
	}
	if a.Primary {
		for j := range addrs {
			addrs[j].Primary = j == i
		}
	}
	c, err := Patch{Addresses: &addrs}.Apply(c, now)
	return c, added, err
}

// RemoveAddress returns c without its address id (see Address.ID); when it
// was the primary one, the first that remains becomes primary.
func (c Customer) RemoveAddress(id string, now time.Time) (Customer, error) {
	addrs := make([]Address, 0, len(c.Addresses))
	for _, x := range c.Addresses {
		if x.ID() != id {
			addrs = append(addrs, x)
		}
	}
	if len(addrs) == len(c.Addresses) {
		return Customer{}, apperr.New(apperr.NotFound, "address not found")
	}
	return Patch{Addresses: &addrs}.Apply(c, now)
}

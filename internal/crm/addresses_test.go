package crm

import (
	"testing"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

func TestAddAndRemoveAddress(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	home := Address{Label: "Casa", Line1: "Gran Vía 1", City: "Madrid", Country: "ES", Primary: true}
	c := Customer{Profile: Profile{Addresses: []Address{home}}}
	work := Address{Label: "Trabajo", Line1: " Serrano 5 ", Country: "es"}
	c, added, err := c.AddAddress(work, now)
	if err != nil || !added || len(c.Addresses) != 2 || !c.Addresses[0].Primary || c.Addresses[1].Country != "ES" || c.Addresses[1].Line1 != "Serrano 5" {
		t.Fatalf("add: %v %v %+v", added, err, c.Addresses)
	}
	// The same address again adds nothing; asking for it as primary moves the flag.
	work.Primary = true
	c, added, err = c.AddAddress(work, now)
	if err != nil || added || len(c.Addresses) != 2 || c.Addresses[0].Primary || !c.Addresses[1].Primary {
		t.Fatalf("add again: %v %v %+v", added, err, c.Addresses)
	}
	if _, _, err := c.AddAddress(Address{Line1: "x", Country: "Spain"}, now); apperr.As(err) == nil || apperr.As(err).Fields[0].Path != "/country" {
		t.Fatalf("bad country: %v", err)
	}
	// Removing the primary one makes the first that remains primary.
	c, err = c.RemoveAddress(c.Addresses[1].ID(), now)
	if err != nil || len(c.Addresses) != 1 || !c.Addresses[0].Primary || c.Addresses[0].Label != "Casa" {
		t.Fatalf("remove: %v %+v", err, c.Addresses)
	}
	if _, err := c.RemoveAddress("0000000000000000", now); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("remove unknown: %v", err)
	}
	full := Customer{}
	for i := range MaxAddresses {
		full.Addresses = append(full.Addresses, Address{Line1: "Calle " + itoa(i), Country: "ES"})
	}
	if _, _, err := full.AddAddress(Address{Line1: "Otra", Country: "ES"}, now); apperr.CodeOf(err) != apperr.Unprocessable {
		t.Fatalf("eleventh address: %v", err)
	}
}

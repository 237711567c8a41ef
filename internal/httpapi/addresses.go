package httpapi

import (
	"context"
	"net/http"

	"github.com/regulars/regulars/internal/crm"
)

func (a addressJSON) address() crm.Address {
	return crm.Address{Label: a.Label, Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region,
		PostalCode: a.PostalCode, Country: a.Country, Primary: a.Primary}
}

func addressOf(a crm.Address) addressJSON {
	return addressJSON{ID: a.ID(), Label: a.Label, Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region,
		PostalCode: a.PostalCode, Country: a.Country, Primary: a.Primary}
}

// addAddress adds one address to a customer's (crm.Customer.AddAddress):
// 201 with the customer when added, 200 when the customer had it already.
func (s *Server) addAddress(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	var in addressJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in); err != nil {
		return response{}, err
	}
	added := false
	c, err := s.store.UpdateCustomer(ctx, r.merchant.ID, cid, func(c crm.Customer) (crm.Customer, error) {
		c, added, err = c.AddAddress(in.address(), r.now)
		return c, err
	})
	if err != nil {
		return response{}, err
	}
	status := http.StatusOK
	if added {
		status = http.StatusCreated
	}
	return jsonResponse(status, customerOf(c, r.merchant.Currency, r.now)), nil
}

// removeAddress removes one address of a customer by its id.
func (s *Server) removeAddress(ctx context.Context, r *request) (response, error) {
	cid, err := customerID(r)
	if err != nil {
		return response{}, err
	}
	id := r.path["addressId"]
	if _, err := s.store.UpdateCustomer(ctx, r.merchant.ID, cid, func(c crm.Customer) (crm.Customer, error) {
		return c.RemoveAddress(id, r.now)
	}); err != nil {
		return response{}, err
	}
	return noContent(), nil
}

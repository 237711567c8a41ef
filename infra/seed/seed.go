// Package seed creates merchants, API keys and demo customers: for the
// operator command, `make run` and tests.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/tenant"
	"github.com/regulars/regulars/internal/webhook"
)

// Store is what seeding writes.
type Store interface {
	CreateMerchant(ctx context.Context, m tenant.Merchant) error
	CreateAPIKey(ctx context.Context, k tenant.APIKey) error
	CreateCustomer(ctx context.Context, c crm.Customer) error
}

// DemoStore is what the full demo needs beyond Store.
type DemoStore interface {
	Store
	RotateWebhookSecret(ctx context.Context, mid string, fresh tenant.WebhookSecret) ([]tenant.WebhookSecret, error)
	SaveProgram(ctx context.Context, mid string, p loyalty.Program, expected int64, by string, at time.Time) (loyalty.ProgramVersion, error)
}

// DemoTimeZone is the demo merchant's time zone.
const DemoTimeZone = "Europe/Madrid"

// DemoMerchant is what Demo created, with the secrets shown once.
type DemoMerchant struct {
	Merchant      tenant.Merchant
	APIKey        string
	WebhookSecret string
	Customers     int
}

// Demo creates the `make run` merchant: a Madrid café with the default
// points program switched on (and points for actions), a webhook secret and a dozen customers with
// profiles only; infra/demo then gives them (and more) purchases, points
// and analytics through the real paths.
func Demo(ctx context.Context, st DemoStore, now time.Time) (DemoMerchant, error) {
	m, key, err := Merchant(ctx, st, "Café Demo", "EUR", DemoTimeZone, tenant.ScopeAdmin, now)
	if err != nil {
		return DemoMerchant{}, fmt.Errorf("demo merchant: %w", err)
	}
	p := loyalty.DefaultProgram()
	p.Enabled = true
	p.Actions = loyalty.Actions{Signup: 50, Newsletter: 20, Review: 10}
	if _, err := st.SaveProgram(ctx, m.ID, p, 0, "demo", now); err != nil {
		return DemoMerchant{}, fmt.Errorf("demo program: %w", err)
	}
	secret := webhook.NewSecret()
	if _, err := st.RotateWebhookSecret(ctx, m.ID, tenant.WebhookSecret{ID: ids.New(now), Secret: secret, CreatedAt: now}); err != nil {
		return DemoMerchant{}, fmt.Errorf("demo webhook secret: %w", err)
	}
	n, err := DemoCustomers(ctx, st, m.ID, now)
	if err != nil {
		return DemoMerchant{}, fmt.Errorf("demo customers: %w", err)
	}
	return DemoMerchant{Merchant: m, APIKey: key, WebhookSecret: secret, Customers: n}, nil
}

// Merchant creates a merchant with one API key of the given scope and
// returns the key's secret, which is not stored anywhere.
func Merchant(ctx context.Context, st Store, name, currency, timeZone string, scope tenant.Scope, now time.Time) (tenant.Merchant, string, error) {
	m, err := tenant.NewMerchant(name, currency, timeZone, now)
	if err != nil {
		return tenant.Merchant{}, "", err
	}
	if err := st.CreateMerchant(ctx, m); err != nil {
		return tenant.Merchant{}, "", fmt.Errorf("create merchant: %w", err)
	}
	secret, err := Key(ctx, st, m.ID, string(scope)+" key", scope, now)
	return m, secret, err
}

// Key creates an API key for a merchant and returns its secret.
func Key(ctx context.Context, st Store, mid, name string, scope tenant.Scope, now time.Time) (string, error) {
	_, secret, err := CreateKey(ctx, st, mid, name, scope, now)
	return secret, err
}

// CreateKey creates an API key for a merchant and returns it with its
// secret, which is shown once.
func CreateKey(ctx context.Context, st Store, mid, name string, scope tenant.Scope, now time.Time) (tenant.APIKey, string, error) {
	k, secret := tenant.NewAPIKey(mid, name, scope, now)
	if err := st.CreateAPIKey(ctx, k); err != nil {
		return tenant.APIKey{}, "", fmt.Errorf("create API key: %w", err)
	}
	return k, secret, nil
}

type demoCustomer struct {
	given, family, email, phone, device string
	tags                                []string
	favorite                            bool
	typ                                 crm.Type
	state                               crm.State
	buyer                               string // the purchase log's customer whose purchases are theirs (external ID cust-<buyer>); "" for none
	enrolledDaysAgo                     int
}

// The last one is María José again under another e-mail: a duplicate to merge.
var demo = []demoCustomer{
	{"María José", "García López", "mariajose.garcia@example.com", "+34600100001", "iPhone 15", []string{"VIP", "café"}, true, crm.TypeDirect, crm.StateActive, "1", 700},
	{"José", "Núñez Gil", "jose.nunez@example.com", "+34600100002", "Pixel 8", []string{"desayunos"}, false, crm.TypeDirect, crm.StateActive, "2", 400},
	{"Lucía", "Fernández", "lucia.fernandez@example.com", "+34600100003", "Galaxy S23", []string{"VIP"}, true, crm.TypeDirect, crm.StateActive, "3", 365},
	{"Carlos", "Martín Ruiz", "carlos.martin@example.com", "+34600100004", "iPhone 13", nil, false, crm.TypeDirect, crm.StateActive, "4", 300},
	{"Ana", "Sánchez", "ana.sanchez@example.com", "", "", []string{"newsletter"}, false, crm.TypeProspect, crm.StatePending, "", 10},
	{"Javier", "Gómez", "javier.gomez@example.com", "+34600100006", "Redmi Note 12", []string{"empleado"}, true, crm.TypeDirect, crm.StateActive, "5", 900},
	{"Elena", "Díaz Romero", "elena.diaz@example.com", "+34600100007", "iPhone 14", nil, false, crm.TypeDirect, crm.StateSuspended, "6", 500},
	{"Pablo", "Moreno", "", "+34600100008", "", []string{"café"}, false, crm.TypeDirect, crm.StateActive, "7", 120},
	{"Carmen", "Jiménez", "carmen.jimenez@example.com", "+34600100009", "Galaxy A54", []string{"VIP", "cumpleaños-marzo"}, false, crm.TypeDirect, crm.StateActive, "8", 640},
	{"", "", "", "", "", nil, false, crm.TypeAnonymous, crm.StateActive, "9", 5},
	{"Sofía", "Álvarez", "sofia.alvarez@example.com", "+34600100011", "iPhone 12", nil, false, crm.TypeDirect, crm.StateActive, "10", 450},
	{"Diego", "Torres", "diego.torres@example.com", "", "", []string{"newsletter"}, false, crm.TypeProspect, crm.StateActive, "", 30},
	{"María José", "García", "mj.garcia.lopez@example.com", "", "", nil, false, crm.TypeDirect, crm.StateActive, "11", 200},
}

// DemoBuyers is how many of the demo purchase log's first customers
// (external IDs cust-demo-1 … cust-demo-DemoBuyers) are demo customers:
// their purchases land on them.
const DemoBuyers = 11

// DemoCustomers fills a merchant's base with a dozen varied customers,
// profiles only: what they bought comes from purchases under their external
// IDs (cust-demo-1 … cust-demo-11), through ingest.
func DemoCustomers(ctx context.Context, st Store, mid string, now time.Time) (int, error) {
	for i, d := range demo {
		enrolled := now.AddDate(0, 0, -d.enrolledDaysAgo)
		var external string
		if d.buyer != "" {
			external = "cust-demo-" + d.buyer
		}
		c, err := crm.New(mid, crm.Enrolment{
			Profile: crm.Profile{GivenName: d.given, FamilyName: d.family, Email: d.email, Phone: d.phone,
				DeviceType: d.device, Tags: d.tags, Favorite: d.favorite, Type: d.typ, ExternalID: external,
				CardNumber: fmt.Sprintf("RG%08d", i+1), NewsletterConsent: d.email != ""},
			EnrolledAt: &enrolled,
		}, now)
		if err != nil {
			return i, fmt.Errorf("demo customer %d: %w", i, err)
		}
		c.State = d.state
		if err := st.CreateCustomer(ctx, c); err != nil {
			return i, fmt.Errorf("demo customer %d: %w", i, err)
		}
	}
	return len(demo), nil
}

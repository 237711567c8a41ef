// Package tenant models merchants (the tenants) and their API keys. It is pure:
// no SDK, no HTTP.
package tenant

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	_ "time/tzdata" // Lambda's provided.al2023 image has no zoneinfo: embed it.

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
)

// Merchant is a tenant: every key in storage carries its ID.
type Merchant struct {
	ID       string
	Name     string
	Currency string // ISO 4217
	TimeZone string // IANA
	// Country (ISO 3166-1 alpha-2) reads phone numbers written in national
	// form; by default the country of TimeZone.
	Country   string
	CreatedAt time.Time
	// PortalSecret signs the merchant's customer-area tokens.
	PortalSecret []byte
	// WebhookSecrets verify purchase webhooks: the newest first, and the one
	// before it while the point of sale switches over.
	WebhookSecrets []WebhookSecret
}

// WebhookSecret is one of a merchant's webhook signing secrets.
type WebhookSecret struct {
	ID        string
	Secret    string // whsec_…, shown once
	CreatedAt time.Time
}

// MaxWebhookSecrets is how many secrets are active at once: two during a rotation.
const MaxWebhookSecrets = 2

// Rotated returns the secrets after adding a new one: it and the previous newest.
func Rotated(current []WebhookSecret, fresh WebhookSecret) []WebhookSecret {
	out := append([]WebhookSecret{fresh}, current...)
	return out[:min(len(out), MaxWebhookSecrets)]
}

// Secrets returns the secret values, to verify with.
func (m Merchant) Secrets() []string {
	out := make([]string, len(m.WebhookSecrets))
	for i, s := range m.WebhookSecrets {
		out[i] = s.Secret
	}
	return out
}

// NewMerchant validates the inputs and returns a merchant with a fresh ID.
func NewMerchant(name, currency, timeZone string, now time.Time) (Merchant, error) {
	var fe apperr.Fields
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		fe.Add("/name", "must be 1 to 200 characters")
	}
	currency = strings.ToUpper(strings.TrimSpace(currency))
	if _, ok := MinorUnits(currency); !ok {
		fe.Add("/currency", "must be an active ISO 4217 currency code such as EUR or USD")
	}
	if err := ValidTimeZone(timeZone); err != nil {
		fe.Add("/time_zone", "%s", err.Error())
	}
	if err := fe.Err(); err != nil {
		return Merchant{}, err
	}
	return Merchant{ID: ids.New(now), Name: name, Currency: currency, TimeZone: timeZone, Country: ZoneCountry(timeZone), CreatedAt: now.UTC(),
		PortalSecret: NewPortalSecret()}, nil
}

// Location returns the merchant's time zone.
func (m Merchant) Location() *time.Location {
	loc, err := time.LoadLocation(m.TimeZone)
	if err != nil {
		return time.UTC // validated on creation; unreachable for stored merchants
	}
	return loc
}

// ValidTimeZone reports whether tz is an IANA zone name (not "Local").
func ValidTimeZone(tz string) error {
	if tz == "" || tz == "Local" || strings.TrimSpace(tz) != tz {
		return apperr.New(apperr.Invalid, "must be an IANA time zone such as Europe/Madrid")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return apperr.New(apperr.Invalid, "must be an IANA time zone such as Europe/Madrid")
	}
	return nil
}

// Scope is what an API key may do.
type Scope string

const (
	// ScopeAdmin may read and write.
	ScopeAdmin Scope = "admin"
	// ScopeRead may only read.
	ScopeRead Scope = "read"
)

// ParseScope validates a scope name.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case ScopeAdmin, ScopeRead:
		return Scope(s), nil
	}
	return "", apperr.Field("/scope", "must be %q or %q", ScopeAdmin, ScopeRead)
}

// CanWrite reports whether the scope allows changes.
func (s Scope) CanWrite() bool { return s == ScopeAdmin }

// KeyPrefix starts every API key so that leaked keys are easy to find.
const KeyPrefix = "rk_"

// APIKey is a stored key: only the SHA-256 of the secret is kept.
type APIKey struct {
	ID         string
	MerchantID string
	Name       string
	Scope      Scope
	Prefix     string // the first characters of the secret, shown in listings
	Hash       string // hex SHA-256 of the whole secret
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

// Revoked reports whether the key was revoked.
func (k APIKey) Revoked() bool { return k.RevokedAt != nil }

// NewAPIKey creates a key and returns it with its secret, which is shown once
// and never stored.
func NewAPIKey(merchantID, name string, scope Scope, now time.Time) (APIKey, string) {
	secret := KeyPrefix + randomToken(32)
	return APIKey{
		ID:         ids.New(now),
		MerchantID: merchantID,
		Name:       strings.TrimSpace(name),
		Scope:      scope,
		Prefix:     secret[:len(KeyPrefix)+6],
		Hash:       HashSecret(secret),
		CreatedAt:  now.UTC(),
	}, secret
}

// HashSecret returns the lookup hash of a presented key.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// LooksLikeKey reports whether s has the shape of an API key, so that
// obviously wrong credentials are refused without a database read.
func LooksLikeKey(s string) bool {
	if !strings.HasPrefix(s, KeyPrefix) || len(s) != len(KeyPrefix)+32 {
		return false
	}
	for _, r := range s[len(KeyPrefix):] {
		if !strings.ContainsRune(alphabet, r) {
			return false
		}
	}
	return true
}

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomToken returns n base62 characters from crypto/rand without modulo bias.
func randomToken(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("crypto/rand failed: " + err.Error()) // documented never to fail on supported platforms
		}
		for _, b := range buf {
			if int(b) < 248 && len(out) < n { // 248 = 4*62: uniform over the alphabet
				out = append(out, alphabet[int(b)%62])
			}
		}
	}
	return string(out)
}

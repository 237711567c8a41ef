package tenant

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// PortalTokenPrefix starts every customer-area token.
const PortalTokenPrefix = "ct_"

// Bounds on a customer-area token's life.
const (
	DefaultPortalTTL = time.Hour
	MaxPortalTTL     = 30 * 24 * time.Hour
)

// NewPortalSecret returns a fresh secret for signing a merchant's
// customer-area tokens.
func NewPortalSecret() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return b
}

type portalClaims struct {
	Merchant string `json:"m"`
	Customer string `json:"c"`
	Expires  int64  `json:"exp"`
}

// IssuePortalToken returns a token that lets one customer read their own
// points area (`/v1/me/…`) until it expires.
func IssuePortalToken(m Merchant, cid string, ttl time.Duration, now time.Time) (string, time.Time) {
	exp := now.Add(ttl).UTC().Truncate(time.Second)
	payload, _ := json.Marshal(portalClaims{Merchant: m.ID, Customer: cid, Expires: exp.Unix()}) // plain strings always marshal
	p := base64.RawURLEncoding.EncodeToString(payload)
	return PortalTokenPrefix + p + "." + sign(m.PortalSecret, p), exp
}

func sign(secret []byte, payload string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// PortalToken is a parsed, not yet verified, customer-area token.
type PortalToken struct {
	MerchantID string
	CustomerID string
	Expires    time.Time
	payload    string
	signature  string
}

var errBadToken = apperr.New(apperr.Unauthorized, "a valid customer token is required: Authorization: Bearer ct_…")

// ParsePortalToken reads a token's claims; Verify must follow with the
// merchant's secret.
func ParsePortalToken(s string) (PortalToken, error) {
	body, ok := strings.CutPrefix(s, PortalTokenPrefix)
	if !ok || len(s) > 1024 {
		return PortalToken{}, errBadToken
	}
	p, sig, ok := strings.Cut(body, ".")
	if !ok {
		return PortalToken{}, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil {
		return PortalToken{}, errBadToken
	}
	var c portalClaims
	if json.Unmarshal(raw, &c) != nil || c.Merchant == "" || c.Customer == "" {
		return PortalToken{}, errBadToken
	}
	return PortalToken{MerchantID: c.Merchant, CustomerID: c.Customer, Expires: time.Unix(c.Expires, 0).UTC(), payload: p, signature: sig}, nil
}

// Verify checks the token's signature with the merchant's secret and its expiry.
func (t PortalToken) Verify(m Merchant, now time.Time) error {
	if len(m.PortalSecret) == 0 || m.ID != t.MerchantID ||
		!hmac.Equal([]byte(sign(m.PortalSecret, t.payload)), []byte(t.signature)) || !now.Before(t.Expires) {
		return errBadToken
	}
	return nil
}

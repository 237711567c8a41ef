// Package webhook signs and verifies webhooks the Standard Webhooks way
// (https://www.standardwebhooks.com): headers webhook-id, webhook-timestamp
// and webhook-signature; the signature is HMAC-SHA256 over
// "<id>.<timestamp>.<body>" with a secret written "whsec_<base64>", sent as a
// space-separated list of "v1,<base64>" so that integrators can use the
// existing libraries, and so that two secrets can be active while rotating.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// Headers of a signed webhook.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Tolerance is how far a timestamp may be from now, either way.
const Tolerance = 5 * time.Minute

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// NewSecret returns a fresh secret: 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

func key(secret string) ([]byte, bool) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	return k, err == nil && len(k) >= 16
}

// Sign returns the webhook-signature value of a message under one secret.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	k, ok := key(secret)
	if !ok {
		return "", apperr.New(apperr.Invalid, "a signing secret is %s followed by base64 of at least 16 bytes", SecretPrefix)
	}
	return "v1," + mac(k, id, strconv.FormatInt(ts.Unix(), 10), body), nil
}

func mac(k []byte, id, ts string, body []byte) string {
	h := hmac.New(sha256.New, k)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

var errUnsigned = apperr.New(apperr.Unauthorized, "the webhook signature does not verify: sign \"<webhook-id>.<webhook-timestamp>.<body>\" with HMAC-SHA256 and your whsec_ secret")

// Verify checks a message's headers against the merchant's active secrets
// (one, or two during a rotation). It returns the webhook id.
func Verify(secrets []string, headers map[string]string, body []byte, now time.Time) (string, error) {
	id, ts, sigs := headers[HeaderID], headers[HeaderTimestamp], headers[HeaderSignature]
	if id == "" || ts == "" || sigs == "" {
		return "", apperr.New(apperr.Unauthorized, "webhook-id, webhook-timestamp and webhook-signature headers are required")
	}
	if len(id) > 256 {
		return "", errUnsigned
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", apperr.New(apperr.Unauthorized, "webhook-timestamp must be Unix seconds")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return "", apperr.New(apperr.Unauthorized, "webhook-timestamp is more than 5 minutes from now: refused as a possible replay")
	}
	for _, secret := range secrets {
		k, ok := key(secret)
		if !ok {
			continue
		}
		want := mac(k, id, ts, body)
		for _, s := range strings.Fields(sigs) {
			version, sig, found := strings.Cut(s, ",")
			if found && version == "v1" && hmac.Equal([]byte(sig), []byte(want)) {
				return id, nil
			}
		}
	}
	return "", errUnsigned
}

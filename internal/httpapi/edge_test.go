package httpapi_test

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/webhook"
)

// TestWebhookTellsNoMerchant: a delivery to a merchant that exists (with or
// without a secret) and one to a merchant that does not get the same answer,
// header by header, whatever is wrong with it.
func TestWebhookTellsNoMerchant(t *testing.T) {
	e := newEnv(t)
	var secrets struct {
		Data []struct {
			Secret string `json:"secret"`
		} `json:"data"`
	}
	e.must(http.StatusCreated, "POST", "/v1/webhook-secrets", e.key, nil).decode(t, &secrets)
	other, _ := e.newMerchant("Sin secreto") // no webhook secret yet
	targets := map[string]string{
		"real merchant":              e.merchant.ID,
		"merchant without a secret":  other.ID,
		"unknown merchant":           "01ARZ3NDEKTSV4RRFFQ69G5FAV",
		"malformed merchant":         "not-a-merchant",
		"unknown, lower-case digits": "01arz3ndektsv4rrffq69g5fav",
	}
	body := `{"events":[]}`
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	signed, _ := webhook.Sign(secrets.Data[0].Secret, "msg_1", now, []byte(body))
	for name, headers := range map[string]map[string]string{
		"no headers":           {},
		"no signature":         {"webhook-id": "msg_1", "webhook-timestamp": ts},
		"no timestamp":         {"webhook-id": "msg_1", "webhook-signature": signed},
		"timestamp not a time": {"webhook-id": "msg_1", "webhook-timestamp": "yesterday", "webhook-signature": signed},
		"stale timestamp":      {"webhook-id": "msg_1", "webhook-timestamp": strconv.FormatInt(now.Add(-time.Hour).Unix(), 10), "webhook-signature": signed},
		"wrong signature":      {"webhook-id": "msg_1", "webhook-timestamp": ts, "webhook-signature": "v1,AAAA"},
		"id too long":          {"webhook-id": string(bytes.Repeat([]byte("x"), 300)), "webhook-timestamp": ts, "webhook-signature": signed},
	} {
		var first reply
		var firstTarget string
		for target, mid := range targets {
			var opts []opt
			for k, v := range headers {
				opts = append(opts, header(k, v))
			}
			r := e.call("POST", "/v1/webhooks/"+mid+"/purchases", "", body, opts...)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("%s to the %s: %d, want 401: %s", name, target, r.status, r.body)
			}
			if firstTarget == "" {
				first, firstTarget = r, target
				continue
			}
			if !bytes.Equal(r.body, first.body) || r.header.Get("WWW-Authenticate") != first.header.Get("WWW-Authenticate") {
				t.Errorf("%s: the %s answers %s, the %s %s", name, target, r.body, firstTarget, first.body)
			}
		}
	}
}

package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/purchasemsg"
	"github.com/regulars/regulars/internal/tenant"
	"github.com/regulars/regulars/internal/webhook"
)

// Sender queues purchase events for the ingest function.
type Sender interface {
	Send(ctx context.Context, bodies [][]byte) error
}

// webhookStore is what the webhook route needs.
type webhookStore interface {
	Merchant(ctx context.Context, mid string) (tenant.Merchant, error)
	WebhookSeen(ctx context.Context, mid, id string) (bool, error)
	RecordWebhook(ctx context.Context, mid, id string, events int, now time.Time, ttl time.Duration) error
}

// webhookMemory is how long a delivered webhook-id is remembered: far beyond
// the 5-minute signature tolerance, so no replay is ever queued twice.
const webhookMemory = 24 * time.Hour

// decoySecrets is what a delivery to a merchant without secrets (or to no
// merchant) is verified against: a secret made at start and never shown, so
// no signature verifies under it.
var decoySecrets = []string{webhook.NewSecret()}

// webhookRoute serves purchase deliveries.
type webhookRoute struct {
	store  webhookStore
	sender Sender
}

type acceptedJSON struct {
	Accepted  int    `json:"accepted"`
	Duplicate bool   `json:"duplicate"`
	WebhookID string `json:"webhook_id"`
}

// receivePurchases verifies, validates and queues a delivery: 401 for a bad
// signature or a stale timestamp and 400 for an invalid payload, with nothing
// queued; 202 only after SQS accepted every event. A repeated webhook-id is
// answered 202 again without queueing anything.
func (w *webhookRoute) receivePurchases(ctx context.Context, r *request) (response, error) {
	mid := r.path["merchantId"]
	var m tenant.Merchant
	if ids.Valid(mid) {
		found, err := w.store.Merchant(ctx, mid)
		switch {
		case err == nil:
			m = found
		case apperr.CodeOf(err) != apperr.NotFound:
			return response{}, err
		}
	}
	// An unknown merchant, and one without a secret yet, verify against a
	// secret nobody holds: every delivery to them goes through the same
	// checks, answers exactly what a real merchant's wrong delivery answers
	// and costs the same work, so the webhook tells nobody which merchants
	// exist.
	secrets := m.Secrets()
	if len(secrets) == 0 {
		secrets = decoySecrets
	}
	id, err := webhook.Verify(secrets, r.headers, r.body, r.now)
	if err != nil {
		return response{}, err
	}
	if seen, err := w.store.WebhookSeen(ctx, mid, id); err != nil {
		return response{}, err
	} else if seen {
		return jsonResponse(http.StatusAccepted, acceptedJSON{Duplicate: true, WebhookID: id}), nil
	}
	if err := checkJSONContentType(r.header("Content-Type")); err != nil {
		return response{}, err
	}
	if err := checkContract(r.routeKey, r.header("Content-Type"), r.body); err != nil {
		return response{}, err
	}
	evs, err := purchasemsg.DecodePayload(r.body, m.Currency, m.Country, r.now)
	if err != nil {
		return response{}, err
	}
	bodies := make([][]byte, len(evs))
	for i, e := range evs {
		if bodies[i], err = purchasemsg.Encode(mid, id, e); err != nil {
			return response{}, err
		}
	}
	if err := w.sender.Send(ctx, bodies); err != nil {
		return response{}, err // 500: the sender retries the delivery; nothing was recorded
	}
	if err := w.store.RecordWebhook(ctx, mid, id, len(evs), r.now, webhookMemory); err != nil {
		return response{}, err // the events are queued; a retry queues them again, and ingest dedupes them
	}
	return jsonResponse(http.StatusAccepted, acceptedJSON{Accepted: len(evs), WebhookID: id}), nil
}

type webhookSecretJSON struct {
	ID        string    `json:"id"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
	Secret    string    `json:"secret,omitempty"` // only when created
}

func secretsOf(ws []tenant.WebhookSecret) []webhookSecretJSON {
	out := make([]webhookSecretJSON, len(ws))
	for i, w := range ws {
		out[i] = webhookSecretJSON{ID: w.ID, Prefix: w.Secret[:min(len(w.Secret), len(webhook.SecretPrefix)+6)], CreatedAt: w.CreatedAt}
	}
	return out
}

func (s *Server) listWebhookSecrets(_ context.Context, r *request) (response, error) {
	return jsonResponse(http.StatusOK, map[string]any{"data": secretsOf(r.merchant.WebhookSecrets)}), nil
}

// rotateWebhookSecret creates a new signing secret, shown once; the previous
// newest stays valid until the next rotation, so a point of sale can switch
// without dropping deliveries.
func (s *Server) rotateWebhookSecret(ctx context.Context, r *request) (response, error) {
	if len(strings.TrimSpace(string(r.body))) > 0 {
		var none struct{}
		if err := decodeJSON(r.body, r.header("Content-Type"), &none); err != nil {
			return response{}, err
		}
	}
	fresh := tenant.WebhookSecret{ID: ids.New(r.now), Secret: webhook.NewSecret(), CreatedAt: r.now}
	active, err := s.store.RotateWebhookSecret(ctx, r.merchant.ID, fresh)
	if err != nil {
		return response{}, err
	}
	out := secretsOf(active)
	out[0].Secret = fresh.Secret
	return jsonResponse(http.StatusCreated, map[string]any{"data": out}), nil
}

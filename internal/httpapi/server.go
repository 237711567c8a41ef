// Package httpapi is the merchant HTTP API as one Lambda handler for API
// Gateway HTTP API (payload format 2.0): routing by route key, bearer API-key
// authentication, scopes, Idempotency-Key, strict JSON decoding and RFC 9457
// problem details. template.yaml declares the same routes; a test keeps the
// two and docs/openapi.yaml equal.
package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-json-experiment/json"

	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
	"github.com/regulars/regulars/internal/cursor"
	"github.com/regulars/regulars/internal/idempotency"
	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
	"github.com/regulars/regulars/internal/points"
	"github.com/regulars/regulars/internal/purchase"
	"github.com/regulars/regulars/internal/tenant"
)

// Stores the API needs, declared here by their consumer.
type (
	authStore interface {
		APIKeyByHash(ctx context.Context, hash string) (tenant.APIKey, error)
		Merchant(ctx context.Context, mid string) (tenant.Merchant, error)
	}
	keyStore interface {
		APIKeys(ctx context.Context, mid string) ([]tenant.APIKey, error)
		CreateAPIKey(ctx context.Context, k tenant.APIKey) error
		RevokeAPIKey(ctx context.Context, mid, kid string, at time.Time) (tenant.APIKey, error)
	}
	customerStore interface {
		CreateCustomer(ctx context.Context, c crm.Customer) error
		Customer(ctx context.Context, mid, cid string) (crm.Customer, error)
		UpdateCustomer(ctx context.Context, mid, cid string, fn func(crm.Customer) (crm.Customer, error)) (crm.Customer, error)
		DeleteCustomer(ctx context.Context, mid, cid string) error
		EraseCustomerData(ctx context.Context, mid, cid string, max int) (erased int, done bool, err error)
		ListCustomers(ctx context.Context, mid string, q crm.Query) (crm.Page, error)
		points.MergeStore
	}
	programStore interface {
		points.Store
		SaveProgram(ctx context.Context, mid string, p loyalty.Program, expected int64, by string, at time.Time) (loyalty.ProgramVersion, error)
		ProgramVersions(ctx context.Context, mid string) ([]loyalty.ProgramVersion, error)
		PutBadge(ctx context.Context, mid string, b loyalty.Badge, replace bool) error
		DeleteBadge(ctx context.Context, mid, bid string) error
		PutReward(ctx context.Context, mid string, r loyalty.Reward, replace bool) error
		DeleteReward(ctx context.Context, mid, rid string) error
		BadgeHolders(ctx context.Context, mid, bid string, limit int, cursor string) (crm.Page, error)
		Entries(ctx context.Context, mid, cid string, limit int, cursor string, kinds ...loyalty.Kind) (loyalty.EntryPage, error)
		CardTemplates(ctx context.Context, mid string) ([]crm.CardTemplate, error)
		CreateCardTemplate(ctx context.Context, mid string, t crm.CardTemplate) error
		GiftSchedules(ctx context.Context, mid string) ([]loyalty.GiftSchedule, error)
		PutGiftSchedule(ctx context.Context, mid string, g loyalty.GiftSchedule) error
		DeleteGiftSchedule(ctx context.Context, mid, id string) error
		Movements(ctx context.Context, mid string, from, to time.Time, fn func(loyalty.Entry) bool) error
		Outstanding(ctx context.Context, mid string) (points, operations int64, err error)
		RotateWebhookSecret(ctx context.Context, mid string, fresh tenant.WebhookSecret) ([]tenant.WebhookSecret, error)
		Visits(ctx context.Context, mid, cid string) ([]crm.Visit, error)
		Timeline(ctx context.Context, mid, cid string, limit int, cursor string, kinds ...string) ([]purchase.TimelineItem, string, error)
		AddEvent(ctx context.Context, mid, cid string, ev crm.Event) error
		Run(ctx context.Context, mid, asOf string) (analytics.Run, int64, error)
		Score(ctx context.Context, mid, cid string) (analytics.Score, error)
		Segments(ctx context.Context, mid string) ([]analytics.Segment, error)
		PutSegment(ctx context.Context, mid string, seg analytics.Segment, replace bool) error
		DeleteSegment(ctx context.Context, mid, sid string) error
		SegmentMembers(ctx context.Context, mid, sid string, limit int, cursor string) (crm.Page, error)
		SegmentSize(ctx context.Context, mid, sid string) (int64, error)
	}
	idempotencyStore interface {
		ClaimIdempotencyKey(ctx context.Context, mid, key, fingerprint string, now time.Time, ttl time.Duration) (idempotency.Record, bool, error)
		CompleteIdempotencyKey(ctx context.Context, mid, key, cid string, rec idempotency.Record, expires time.Time) error
		ReleaseIdempotencyKey(ctx context.Context, mid, key, fingerprint string) error
	}
)

// Store is everything the API reads and writes.
type Store interface {
	// Cursors signs the cursors of the lists the API pages itself (the
	// points report), with the key of the store's own list cursors.
	Cursors() *cursor.Signer
	authStore
	keyStore
	customerStore
	programStore
	idempotencyStore
	jobStore
}

// Server answers API Gateway HTTP API events.
type Server struct {
	store    Store
	points   *points.Service
	runs     Sender         // queues analytics runs; nil when not configured
	jobQueue Sender         // queues jobs (exports, imports, erasures); nil when not configured
	files    fileStore      // signs the URLs of jobs' files; nil when not configured
	cursors  *cursor.Signer // nil in the webhook's server, which pages nothing
	log      *slog.Logger
	now      func() time.Time
	spec     func() ([]byte, error) // the OpenAPI document as JSON, made on first use
	routes   map[string]route
}

type handlerFunc func(ctx context.Context, r *request) (response, error)

type route struct {
	handle   handlerFunc
	public   bool // no credentials at all
	customer bool // a customer-area token, not an API key
	signed   bool // a webhook signature, checked by the handler on the raw body
	secret   bool // answers a secret or a token shown once: never kept in an idempotency record
	// resumable answers 202 while work remains, to be repeated: a 202 is not
	// its final answer, so a repeat with the same Idempotency-Key continues
	// the work instead of replaying the 202.
	resumable bool
}

// New returns a server. now is the clock (time.Now in production); openAPI
// renders the OpenAPI document, once, when it is first asked for (keeping
// it off the cold start).
func New(store Store, log *slog.Logger, now func() time.Time, openAPI func() ([]byte, error)) *Server {
	s := &Server{store: store, points: points.New(store, now), cursors: store.Cursors(), log: log, now: now, spec: sync.OnceValues(openAPI)}
	s.routes = map[string]route{
		"GET /openapi.json":                          {handle: s.getOpenAPI, public: true},
		"GET /v1/merchant":                           {handle: s.getMerchant},
		"GET /v1/api-keys":                           {handle: s.listAPIKeys},
		"POST /v1/api-keys":                          {handle: s.createAPIKey, secret: true},
		"DELETE /v1/api-keys/{keyId}":                {handle: s.revokeAPIKey},
		"GET /v1/customers":                          {handle: s.listCustomers},
		"POST /v1/customers":                         {handle: s.createCustomer},
		"GET /v1/customers/{customerId}":             {handle: s.getCustomer},
		"PATCH /v1/customers/{customerId}":           {handle: s.updateCustomer},
		"DELETE /v1/customers/{customerId}":          {handle: s.deleteCustomer},
		"POST /v1/customers/{customerId}/suspend":    {handle: s.suspendCustomer},
		"POST /v1/customers/{customerId}/reactivate": {handle: s.reactivateCustomer},
		"POST /v1/customers/{customerId}/merge":      {handle: s.mergeCustomer, resumable: true},

		"POST /v1/customers/{customerId}/addresses":               {handle: s.addAddress},
		"DELETE /v1/customers/{customerId}/addresses/{addressId}": {handle: s.removeAddress},

		"GET /v1/program":                    {handle: s.getProgram},
		"PUT /v1/program":                    {handle: s.putProgram},
		"GET /v1/program/versions":           {handle: s.listProgramVersions},
		"GET /v1/badges":                     {handle: s.listBadges},
		"POST /v1/badges":                    {handle: s.createBadge},
		"PUT /v1/badges/{badgeId}":           {handle: s.putBadge},
		"DELETE /v1/badges/{badgeId}":        {handle: s.deleteBadge},
		"GET /v1/badges/{badgeId}/customers": {handle: s.listBadgeCustomers},
		"GET /v1/rewards":                    {handle: s.listRewards},
		"POST /v1/rewards":                   {handle: s.createReward},
		"PUT /v1/rewards/{rewardId}":         {handle: s.putReward},
		"DELETE /v1/rewards/{rewardId}":      {handle: s.deleteReward},

		"GET /v1/customers/{customerId}/points":                         {handle: s.getPoints},
		"GET /v1/customers/{customerId}/points/entries":                 {handle: s.listEntries},
		"POST /v1/customers/{customerId}/points/entries":                {handle: s.postEntry},
		"POST /v1/customers/{customerId}/points/preview":                {handle: s.previewEntry},
		"POST /v1/customers/{customerId}/points/entries/{entryId}/void": {handle: s.voidEntry},
		"POST /v1/customers/{customerId}/points/balance":                {handle: s.setBalance},
		"POST /v1/customers/{customerId}/actions":                       {handle: s.postAction},
		"POST /v1/customers/{customerId}/checkout/quote":                {handle: s.quote},
		"POST /v1/customers/{customerId}/redemptions":                   {handle: s.redeem},
		"POST /v1/customers/{customerId}/redemptions/{orderRef}/cancel": {handle: s.cancelRedemption},
		"GET /v1/customers/{customerId}/rewards":                        {handle: s.listCustomerRewards},
		"POST /v1/customers/{customerId}/rewards/{rewardId}/redeem":     {handle: s.redeemReward},
		"POST /v1/customers/{customerId}/portal-token":                  {handle: s.issuePortalToken, secret: true},

		"GET /v1/card-templates":                 {handle: s.listCardTemplates},
		"POST /v1/card-templates":                {handle: s.createCardTemplate},
		"POST /v1/cards/enrol":                   {handle: s.enrolWithCard},
		"GET /v1/gift-schedules":                 {handle: s.listGiftSchedules},
		"POST /v1/gift-schedules":                {handle: s.createGiftSchedule},
		"DELETE /v1/gift-schedules/{scheduleId}": {handle: s.deleteGiftSchedule},
		"GET /v1/reports/points":                 {handle: s.pointsReport},

		"GET /v1/customers/{customerId}/visits":    {handle: s.listVisits},
		"GET /v1/customers/{customerId}/timeline":  {handle: s.getTimeline},
		"POST /v1/customers/{customerId}/events":   {handle: s.postEvent},
		"GET /v1/segments":                         {handle: s.listSegments},
		"POST /v1/segments":                        {handle: s.createSegment},
		"PUT /v1/segments/{segmentId}":             {handle: s.putSegment},
		"DELETE /v1/segments/{segmentId}":          {handle: s.deleteSegment},
		"GET /v1/segments/{segmentId}/customers":   {handle: s.listSegmentCustomers},
		"POST /v1/analytics/runs":                  {handle: s.startRun},
		"GET /v1/analytics/runs/{asOf}":            {handle: s.getRun},
		"GET /v1/customers/{customerId}/analytics": {handle: s.getCustomerAnalytics},
		"GET /v1/webhook-secrets":                  {handle: s.listWebhookSecrets},
		"POST /v1/webhook-secrets":                 {handle: s.rotateWebhookSecret, secret: true},

		"POST /v1/exports":     {handle: s.createExport},
		"GET /v1/jobs/{jobId}": {handle: s.getJob},
		"POST /v1/imports":     {handle: s.createImport},

		"POST /v1/imports/{jobId}/start": {handle: s.startImport},

		"GET /v1/me/points":  {handle: s.myPoints, customer: true},
		"GET /v1/me/entries": {handle: s.myEntries, customer: true},
		"GET /v1/me/rewards": {handle: s.myRewards, customer: true},
	}
	return s
}

// NewWebhook returns the server of the webhook function: the purchase
// webhook route only, authenticated by its Standard Webhooks signature, and
// queueing the events it accepts.
func NewWebhook(store webhookStore, sender Sender, log *slog.Logger, now func() time.Time) *Server {
	w := &webhookRoute{store: store, sender: sender}
	return &Server{log: log, now: now, routes: map[string]route{
		"POST /v1/webhooks/{merchantId}/purchases": {handle: w.receivePurchases, signed: true},
	}}
}

// RouteKeys lists the route keys the server implements.
func (s *Server) RouteKeys() []string {
	keys := make([]string, 0, len(s.routes))
	for k := range s.routes {
		keys = append(keys, k)
	}
	return keys
}

// request is an authenticated, decoded API call.
type request struct {
	routeKey string
	path     map[string]string
	query    map[string]string
	headers  map[string]string // lower-case names
	body     []byte
	key      tenant.APIKey
	merchant tenant.Merchant
	customer string // the customer of a customer-area token
	now      time.Time
}

func (r *request) header(name string) string { return r.headers[strings.ToLower(name)] }

// response is what a handler answers.
type response struct {
	status  int
	headers map[string]string
	body    []byte
}

func jsonResponse(status int, v any) response {
	b, err := json.Marshal(v, json.Deterministic(true))
	if err != nil {
		panic(fmt.Sprintf("marshal response: %v", err)) // our own types always marshal
	}
	return response{status: status, headers: map[string]string{"Content-Type": "application/json"}, body: b}
}

func noContent() response {
	return response{status: http.StatusNoContent, headers: map[string]string{}}
}

// answerMargin is the part of the invocation's time kept for answering once
// the work stops: recording the Idempotency-Key's outcome, the response, the
// log line. The work gets the rest: a request that cannot finish in it
// answers 503 with Retry-After, before Lambda's timeout would end it with
// API Gateway's bare 500.
const answerMargin = 2 * time.Second

// Handle is the Lambda handler.
func (s *Server) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp events.APIGatewayV2HTTPResponse, _ error) {
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-answerMargin))
		defer cancel()
	}
	start := s.now()
	log := s.log.With("route", ev.RouteKey, "request_id", ev.RequestContext.RequestID)
	defer func() {
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = toEvent(problemOf(ctx, log, apperr.New(apperr.Internal, "panic")))
		}
		log.InfoContext(ctx, "request", "status", resp.StatusCode, "duration_ms", s.now().Sub(start).Milliseconds())
	}()
	r, err := s.serve(ctx, ev, log)
	if err != nil {
		return toEvent(problemOf(ctx, log, err)), nil
	}
	return toEvent(r), nil
}

func toEvent(r response) events.APIGatewayV2HTTPResponse {
	h := map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
	for k, v := range r.headers {
		h[k] = v
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: r.status, Headers: h, Body: string(r.body)}
}

func (s *Server) serve(ctx context.Context, ev events.APIGatewayV2HTTPRequest, log *slog.Logger) (response, error) {
	rt, ok := s.routes[ev.RouteKey]
	if !ok {
		return response{}, apperr.New(apperr.NotFound, "no route %s", ev.RouteKey)
	}
	r := &request{routeKey: ev.RouteKey, path: ev.PathParameters, query: ev.QueryStringParameters,
		headers: lowerKeys(ev.Headers), now: s.now().UTC()}
	var err error
	if rt.public {
		return rt.handle(ctx, r)
	}
	if rt.signed {
		if r.body, err = readBody(ev); err != nil {
			return response{}, err
		}
		return rt.handle(ctx, r)
	}
	if rt.customer {
		if err := s.authenticateCustomer(ctx, r); err != nil {
			return response{}, err
		}
		return rt.handle(ctx, r)
	}
	if err := s.authenticate(ctx, r); err != nil {
		return response{}, err
	}
	if ev.RequestContext.HTTP.Method != http.MethodGet && !r.key.Scope.CanWrite() {
		return response{}, apperr.New(apperr.Forbidden, "this API key has the %q scope and cannot make changes", r.key.Scope)
	}
	if r.body, err = readBody(ev); err != nil {
		return response{}, err
	}
	if err := checkContract(r.routeKey, r.header("Content-Type"), r.body); err != nil {
		return response{}, err
	}
	key := r.header("Idempotency-Key")
	if key == "" || ev.RequestContext.HTTP.Method != http.MethodPost {
		return rt.handle(ctx, r)
	}
	return s.idempotent(ctx, r, rt, key, ev.RawPath, log)
}

func lowerKeys(h map[string]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[strings.ToLower(k)] = v
	}
	return out
}

func readBody(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, apperr.Field("", "the body is not valid base64")
		}
	}
	if len(body) > MaxBodyBytes {
		return nil, apperr.New(apperr.TooLarge, "request bodies are limited to %d bytes", MaxBodyBytes)
	}
	return body, nil
}

// authenticate resolves the bearer API key and its merchant.
func (s *Server) authenticate(ctx context.Context, r *request) error {
	unauthorized := apperr.New(apperr.Unauthorized, "a valid API key is required: Authorization: Bearer rk_…")
	scheme, secret, ok := strings.Cut(r.header("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !tenant.LooksLikeKey(strings.TrimSpace(secret)) {
		return unauthorized
	}
	k, err := s.store.APIKeyByHash(ctx, tenant.HashSecret(strings.TrimSpace(secret)))
	if apperr.CodeOf(err) == apperr.NotFound || (err == nil && k.Revoked()) {
		return unauthorized
	}
	if err != nil {
		return err
	}
	m, err := s.store.Merchant(ctx, k.MerchantID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return unauthorized
	}
	if err != nil {
		return err
	}
	r.key, r.merchant = k, m
	return nil
}

// authenticateCustomer resolves a customer-area token: signed by the
// merchant, unexpired, for a customer who still exists.
func (s *Server) authenticateCustomer(ctx context.Context, r *request) error {
	scheme, token, ok := strings.Cut(r.header("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return apperr.New(apperr.Unauthorized, "a valid customer token is required: Authorization: Bearer ct_…")
	}
	t, err := tenant.ParsePortalToken(strings.TrimSpace(token))
	if err != nil {
		return err
	}
	m, err := s.store.Merchant(ctx, t.MerchantID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return apperr.New(apperr.Unauthorized, "a valid customer token is required: Authorization: Bearer ct_…")
	}
	if err != nil {
		return err
	}
	if err := t.Verify(m, r.now); err != nil {
		return err
	}
	c, err := s.store.Customer(ctx, m.ID, t.CustomerID)
	if apperr.CodeOf(err) == apperr.NotFound || err == nil && c.State == crm.StateMerged {
		return apperr.New(apperr.Unauthorized, "this customer no longer exists")
	}
	if err != nil {
		return err
	}
	r.merchant, r.customer = m, t.CustomerID
	return nil
}

// idempotent runs a POST at most once per Idempotency-Key: a repeat with the
// same request replays the first response; a different request with the same
// key is refused (422); a repeat while the first still runs is refused (409).
//
// A route that answers a secret keeps only the outcome, not the body: its
// repeat answers 409, since the secret was shown once.
func (s *Server) idempotent(ctx context.Context, r *request, rt route, key, target string, log *slog.Logger) (response, error) {
	if err := idempotency.ValidKey(key); err != nil {
		return response{}, err
	}
	fp := idempotency.Fingerprint(r.routeKey, target, r.body)
	mid := r.merchant.ID
	stored, claimed, err := s.store.ClaimIdempotencyKey(ctx, mid, key, fp, r.now, idempotency.TTL)
	if err != nil {
		return response{}, err
	}
	if !claimed {
		switch idempotency.Decide(stored, fp) {
		case idempotency.Mismatch:
			return response{}, apperr.New(apperr.Unprocessable, "this Idempotency-Key was already used for a different request")
		case idempotency.InProgress:
			return response{}, apperr.Busy("a request with this Idempotency-Key is still being processed; retry shortly")
		}
		if rt.secret && stored.Status < 300 {
			return response{}, apperr.New(apperr.Conflict, "this request was already processed; the secret it created was shown once and is not kept")
		}
		headers := map[string]string{"Idempotent-Replayed": "true"}
		for k, v := range stored.Headers {
			headers[k] = v
		}
		return response{status: stored.Status, headers: headers, body: stored.Body}, nil
	}
	resp, err := rt.handle(ctx, r)
	if err != nil {
		resp = problemOf(ctx, log, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Out of time, perhaps with a write in flight that may yet land: the
		// claim stays, so a repeat answers 409 (in progress) rather than
		// writing again, until it is abandoned (2 minutes, ClaimIdempotencyKey).
		return resp, nil
	}
	if resp.status >= 500 || rt.resumable && resp.status == http.StatusAccepted {
		// Not a final answer: let a retry with the same key try again.
		after, cancel := afterWork(ctx)
		defer cancel()
		if rerr := s.store.ReleaseIdempotencyKey(after, mid, key, fp); rerr != nil {
			log.ErrorContext(ctx, "release idempotency key", "err", rerr)
		}
		return resp, nil
	}
	kept := idempotency.Record{Fingerprint: fp, Done: true, Status: resp.status, Body: resp.body, Headers: resp.headers}
	if rt.secret && resp.status < 300 {
		kept.Body, kept.Headers = nil, nil
	}
	after, cancel := afterWork(ctx)
	defer cancel()
	if cerr := s.store.CompleteIdempotencyKey(after, mid, key, subjectOf(r, resp), kept, r.now.Add(idempotency.TTL)); cerr != nil {
		log.ErrorContext(ctx, "complete idempotency key", "err", cerr)
	}
	return resp, nil
}

// afterWork is the context of what a request does once its work stopped
// (perhaps at its deadline): the time answerMargin keeps, less a little for
// the answer itself.
func afterWork(ctx context.Context) (context.Context, context.CancelFunc) {
	after := context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(after, deadline.Add(answerMargin*3/4))
	}
	return after, func() {}
}

// subjectOf is the customer a request was about — the one in its path, or
// the one it created — whose erasure must take the request's idempotency
// record (and the response it keeps) with it.
func subjectOf(r *request, resp response) string {
	if cid := r.path["customerId"]; cid != "" {
		return cid
	}
	if cid, ok := strings.CutPrefix(resp.headers["Location"], "/v1/customers/"); ok && ids.Valid(cid) {
		return cid
	}
	return ""
}

func (s *Server) getOpenAPI(context.Context, *request) (response, error) {
	spec, err := s.spec()
	if err != nil {
		return response{}, err
	}
	return response{status: http.StatusOK, headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "public, max-age=300"}, body: spec}, nil
}

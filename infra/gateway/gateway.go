// Package gateway is the local stand-in for API Gateway (HTTP API, payload
// format 2.0): it matches each request against the routes template.yaml
// declares, turns it into an events.APIGatewayV2HTTPRequest and invokes the
// very handler the Lambda runs.
package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Handler is a Lambda handler for HTTP API events.
type Handler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Route binds a declared route ("GET /v1/customers/{customerId}") to a handler.
type Route struct {
	Method  string // GET, POST… or ANY
	Path    string // a path template with {name} and an optional trailing {name+}
	Handler Handler
	// Timeout is the function's timeout (template.yaml): the invocation's
	// context carries it as its deadline, and an invocation still running
	// then is answered as API Gateway answers a function that timed out.
	// Zero: no limit.
	Timeout time.Duration
}

// Key is the route key API Gateway puts in the event.
func (r Route) Key() string { return r.Method + " " + r.Path }

// maxPayload is API Gateway's request payload limit.
const maxPayload = 10 << 20

// Gateway serves routes over net/http.
type Gateway struct {
	routes []compiled
	log    *slog.Logger
	seq    atomic.Uint64
}

type compiled struct {
	Route
	segments []string
}

// New compiles the routes. As in API Gateway, a literal segment wins over a
// parameter and a greedy {name+} comes last.
func New(routes []Route, log *slog.Logger) (*Gateway, error) {
	g := &Gateway{log: log}
	seen := map[string]bool{}
	for _, r := range routes {
		if seen[r.Key()] {
			return nil, fmt.Errorf("route %s declared twice", r.Key())
		}
		seen[r.Key()] = true
		if !strings.HasPrefix(r.Path, "/") {
			return nil, fmt.Errorf("route %s: path must start with /", r.Key())
		}
		g.routes = append(g.routes, compiled{Route: r, segments: strings.Split(strings.Trim(r.Path, "/"), "/")})
	}
	sort.SliceStable(g.routes, func(i, j int) bool { return specificity(g.routes[i]) > specificity(g.routes[j]) })
	return g, nil
}

func specificity(c compiled) int {
	score := len(c.segments) * 4
	for _, s := range c.segments {
		switch {
		case strings.HasSuffix(s, "+}"):
			score -= 3
		case strings.HasPrefix(s, "{"):
			score--
		}
	}
	if c.Method != "ANY" {
		score++
	}
	return score
}

// match finds the route for a method and path and its path parameters.
func (g *Gateway) match(method, path string) (compiled, map[string]string, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for _, c := range g.routes {
		if c.Method != method && c.Method != "ANY" {
			continue
		}
		if params, ok := matchSegments(c.segments, parts); ok {
			return c, params, true
		}
	}
	return compiled{}, nil, false
}

func matchSegments(tmpl, parts []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, s := range tmpl {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}") {
			if i >= len(parts) {
				return nil, false
			}
			params[s[1:len(s)-2]] = strings.Join(parts[i:], "/")
			return params, true
		}
		if i >= len(parts) {
			return nil, false
		}
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if parts[i] == "" {
				return nil, false
			}
			params[s[1:len(s)-1]] = parts[i]
			continue
		}
		if s != parts[i] {
			return nil, false
		}
	}
	return params, len(tmpl) == len(parts)
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	c, params, ok := g.match(req.Method, req.URL.EscapedPath())
	if !ok {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxPayload+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > maxPayload {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := g.Event(req, c.Key(), params, body)
	resp, err := invoke(req.Context(), c.Timeout, func(ctx context.Context) (events.APIGatewayV2HTTPResponse, error) {
		return c.Handler(ctx, ev)
	})
	if err != nil {
		// API Gateway answers 500 when the function itself fails or times out.
		g.log.Error("handler failed", "route", c.Key(), "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	writeResponse(w, resp)
}

// ErrTimedOut ends an invocation that outlived its function's timeout, as
// Lambda's "Task timed out" does.
var ErrTimedOut = errors.New("task timed out")

// invoke calls fn as Lambda invokes a function with this timeout: fn's
// context carries the deadline, and an invocation that has not returned by
// then ends with ErrTimedOut (fn is left to notice its context on its own).
// A timeout of zero sets no deadline.
func invoke[T any](ctx context.Context, timeout time.Duration, fn func(context.Context) (T, error)) (T, error) {
	if timeout <= 0 {
		return fn(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		select {
		case r := <-done: // it answered as the time ran out
			return r.v, r.err
		default:
		}
		var zero T
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return zero, fmt.Errorf("%w after %s", ErrTimedOut, timeout)
		}
		return zero, ctx.Err()
	}
}

// Event builds the payload-2.0 event API Gateway would send for req.
func (g *Gateway) Event(req *http.Request, routeKey string, params map[string]string, body []byte) events.APIGatewayV2HTTPRequest {
	now := time.Now()
	headers := map[string]string{}
	for k, v := range req.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	if req.Host != "" {
		headers["host"] = req.Host
	}
	headers["content-length"] = fmt.Sprint(len(body))
	var query map[string]string
	if q := req.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, v := range q {
			query[k] = strings.Join(v, ",")
		}
	}
	var cookies []string
	for _, ck := range req.Cookies() {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	if len(params) == 0 {
		params = nil
	}
	sourceIP, _, _ := net.SplitHostPort(req.RemoteAddr)
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               req.URL.EscapedPath(),
		RawQueryString:        req.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   routeKey,
			AccountID:  "000000000000",
			Stage:      "$default",
			RequestID:  fmt.Sprintf("local-%d-%d", now.UnixNano(), g.seq.Add(1)),
			APIID:      "local",
			DomainName: req.Host,
			Time:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:  now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: req.Method, Path: req.URL.EscapedPath(), Protocol: req.Proto,
				SourceIP: sourceIP, UserAgent: req.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(req.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// isText reports whether API Gateway passes a body of this type as text.
func isText(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct == ""
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		mt == "application/xml" || mt == "application/x-www-form-urlencoded"
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, ck := range resp.Cookies {
		w.Header().Add("Set-Cookie", ck)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q}`, msg)
}

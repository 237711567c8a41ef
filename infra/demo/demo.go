// Package demo seeds the `make run` merchant through the real paths: the
// merchant, its program and a dozen customers (infra/seed), then badges,
// rewards and a dynamic segment through the API, a few hundred customers'
// purchases through the signed webhook, the queue and ingest, reward
// redemptions through the API, and the nightly analytics run of yesterday
// through its queue. Every screen of the demo then agrees with the others:
// balances are the sum of the ledger, metrics are what the orders say.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/infra/gateway"
	"github.com/regulars/regulars/infra/loader"
	"github.com/regulars/regulars/infra/seed"
	"github.com/regulars/regulars/internal/dynamo"
)

// Env is the local stack the demo goes through.
type Env struct {
	Store     *dynamo.Store
	Gateway   http.Handler       // the API and webhook routes (devserver.Gateway)
	Consumers []gateway.Consumer // the queue consumers (devserver.Consumers), not polling yet
	SQS       gateway.DrainAPI
	Log       *slog.Logger
}

// Customers is how many purchase-log customers `make run` seeds.
const Customers = 250

// Purchases returns the demo's purchase history: the first n customers of
// the CDNOW log at path, renumbered demo-1…demo-n in order of appearance
// (external IDs cust-demo-<k>, apart from what `make load` sends) and moved
// in time so that the log's last day is yesterday in loc (noon local, as
// loader.ParseCDNOW dates them); without the file, loader.Synthetic's n
// customers over the year up to yesterday, renumbered alike.
func Purchases(path string, n int, now time.Time, loc *time.Location) ([]loader.Purchase, error) {
	y, m, d := now.In(loc).AddDate(0, 0, -1).Date()
	yesterday := time.Date(y, m, d, 12, 0, 0, 0, loc)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) || path == "" {
		ps := loader.Synthetic(n, yesterday, 1)
		for i := range ps {
			ps[i].Customer = "demo-" + ps[i].Customer
		}
		return ps, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	all, err := loader.ParseCDNOW(bufio.NewReader(f), loc)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s: no purchases", path)
	}
	last := slices.MaxFunc(all, func(a, b loader.Purchase) int { return a.Date.Compare(b.Date) }).Date
	ly, lm, ld := last.Date()
	shift := int(yesterday.Sub(time.Date(ly, lm, ld, 12, 0, 0, 0, loc)).Hours()+12) / 24
	number := map[string]string{}
	var out []loader.Purchase
	for _, p := range all {
		k, ok := number[p.Customer]
		if !ok {
			if len(number) == n {
				continue
			}
			k = "demo-" + strconv.Itoa(len(number)+1)
			number[p.Customer] = k
		}
		p.Customer, p.Date = k, p.Date.AddDate(0, 0, shift)
		out = append(out, p)
	}
	return out, nil
}

// Seed creates the demo merchant and runs its history through the stack:
// the queue consumers are drained here, so the stack must not poll them yet.
func Seed(ctx context.Context, env Env, purchases []loader.Purchase, now time.Time) (seed.DemoMerchant, error) {
	d, err := seed.Demo(ctx, env.Store, now)
	if err != nil {
		return d, err
	}
	srv := httptest.NewServer(env.Gateway)
	defer srv.Close()
	api := client{url: srv.URL, key: d.APIKey}
	// The catalogue first, so that every posting computes badges and
	// rewards against it.
	rewards := map[string]string{}
	for _, b := range []map[string]any{
		{"title": "Bronce", "from": 100, "to": 500},
		{"title": "Plata", "from": 500, "to": 1500},
		{"title": "Oro", "from": 1500, "description": "Nuestros mejores clientes"},
	} {
		if err := api.do(ctx, "POST", "/v1/badges", b, nil); err != nil {
			return d, fmt.Errorf("demo badge: %w", err)
		}
	}
	for _, r := range []map[string]any{
		{"name": "Café gratis", "description": "Un café solo, cortado o con leche.", "cost": 100, "active": true},
		{"name": "Desayuno completo", "description": "Café, zumo de naranja y tostada.", "cost": 300, "stock": 20, "active": true},
		{"name": "Bolsa de café en grano, 250 g", "description": "Nuestro tueste de la semana.", "cost": 1000, "stock": 5, "active": true},
	} {
		var out struct {
			ID string `json:"id"`
		}
		if err := api.do(ctx, "POST", "/v1/rewards", r, &out); err != nil {
			return d, fmt.Errorf("demo reward: %w", err)
		}
		rewards[r["name"].(string)] = out.ID
	}
	if err := api.do(ctx, "POST", "/v1/segments", map[string]any{"name": "Clientes de valor",
		"description": "Más de 100 € gastados en total y alguna compra en los últimos 90 días.",
		"rule": map[string]any{"all": []any{
			map[string]any{"field": "ltv", "op": "gte", "value": 10000},
			map[string]any{"field": "days_since_purchase", "op": "between", "value": []int{0, 90}},
		}}}, nil); err != nil {
		return d, fmt.Errorf("demo segment: %w", err)
	}
	// The purchases, through the signed webhook, the queue and ingest.
	hook := loader.Client{URL: srv.URL, Merchant: d.Merchant.ID, Secret: d.WebhookSecret, Currency: d.Merchant.Currency, Prefix: "demo"}
	if err := hook.Load(ctx, purchases, nil); err != nil {
		return d, fmt.Errorf("demo purchases: %w", err)
	}
	if err := env.drain(ctx, "IngestFunction"); err != nil {
		return d, err
	}
	// The best customers take a reward.
	var top struct {
		Data []struct {
			ID            string `json:"id"`
			State         string `json:"state"`
			PointsBalance int64  `json:"points_balance"`
		} `json:"data"`
	}
	if err := api.do(ctx, "GET", "/v1/customers?order=points_balance&state=active&limit=10", nil, &top); err != nil {
		return d, fmt.Errorf("demo: the customers by balance: %w", err)
	}
	for i, c := range top.Data {
		reward := rewards["Café gratis"]
		if i%3 == 1 && c.PointsBalance >= 300 {
			reward = rewards["Desayuno completo"]
		}
		if c.PointsBalance < 100 {
			break
		}
		if err := api.do(ctx, "POST", "/v1/customers/"+c.ID+"/rewards/"+reward+"/redeem", map[string]any{"location": "Centro"}, nil); err != nil {
			return d, fmt.Errorf("demo redemption: %w", err)
		}
	}
	// Last night's analytics.
	asOf := now.In(d.Merchant.Location()).AddDate(0, 0, -1).Format(time.DateOnly)
	if err := api.do(ctx, "POST", "/v1/analytics/runs", map[string]any{"as_of": asOf}, nil); err != nil {
		return d, fmt.Errorf("demo analytics run: %w", err)
	}
	if err := env.drain(ctx, "NightlyFunction"); err != nil {
		return d, err
	}
	buyers := map[string]bool{}
	for _, p := range purchases {
		if n, err := strconv.Atoi(strings.TrimPrefix(p.Customer, "demo-")); err != nil || n > seed.DemoBuyers {
			buyers[p.Customer] = true // enrolled by their first purchase
		}
	}
	d.Customers += len(buyers)
	return d, nil
}

// drain feeds a function's queue to it until the queue is empty.
func (e Env) drain(ctx context.Context, function string) error {
	i := slices.IndexFunc(e.Consumers, func(c gateway.Consumer) bool { return c.Function == function })
	if i < 0 {
		return fmt.Errorf("demo: no consumer for %s", function)
	}
	c := e.Consumers[i]
	c.RetryDelay = 0
	if err := c.Drain(ctx, e.SQS, 2, e.Log); err != nil {
		return fmt.Errorf("demo: drain %s: %w", function, err)
	}
	return nil
}

// client calls the API with the demo's admin key.
type client struct{ url, key string }

func (c client) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s answered %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

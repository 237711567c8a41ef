// Package loader pushes purchase files through the real, signed webhook path
// (POST /v1/webhooks/{merchant}/purchases), and generates synthetic purchase
// histories for benchmarks.
package loader

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/webhook"
)

// Purchase is one purchase of a file, before it becomes an event.
type Purchase struct {
	Customer string // the merchant's external ID of the customer
	Date     time.Time
	Units    int64
	Amount   int64 // minor units
}

// ParseCDNOW reads the CDNOW purchase log: customer id, sample id, date
// (YYYYMMDD), number of CDs and dollar value, separated by blanks. Dates are
// noon in loc, which must be the receiving merchant's time zone (see
// MerchantZone) so that each purchase lands on the file's calendar day;
// dollars become cents exactly (the file has two decimals).
func ParseCDNOW(r io.Reader, loc *time.Location) ([]Purchase, error) {
	var out []Purchase
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 5 {
			return nil, fmt.Errorf("line %d: %d fields, want 5", n, len(f))
		}
		d, err := time.ParseInLocation("20060102", f[2], loc)
		if err != nil {
			return nil, fmt.Errorf("line %d: date: %w", n, err)
		}
		units, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: units: %w", n, err)
		}
		if units < 1 {
			return nil, fmt.Errorf("line %d: %d CDs, want at least 1", n, units)
		}
		whole, frac, _ := strings.Cut(f[4], ".")
		frac = (frac + "00")[:2]
		cents, err := strconv.ParseInt(whole+frac, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: amount: %w", n, err)
		}
		out = append(out, Purchase{Customer: strings.TrimLeft(f[0], "0"), Date: d.Add(12 * time.Hour), Units: units, Amount: cents})
	}
	return out, sc.Err()
}

// Event is the webhook event of a purchase: a completed order of one line
// of Units CDs whose net is the whole amount, for a customer known by
// external ID.
func (p Purchase) Event(i int, currency string) map[string]any {
	return map[string]any{
		"event_id": fmt.Sprintf("load-%d", i), "order_id": fmt.Sprintf("L-%d", i), "status": "completed",
		"occurred_at": p.Date.Format(time.RFC3339), "location": map[string]any{"id": "web", "name": "Web"},
		"customer": map[string]any{"external_id": "cust-" + p.Customer}, "currency": currency,
		"lines": []map[string]any{p.line()},
	}
}

// line is the purchase as one line of Units CDs (at least one): the unit
// price is the amount divided by the CDs, rounded up, and what rounding up
// adds is the line's discount, so the line's net is exactly Amount.
func (p Purchase) line() map[string]any {
	units := max(p.Units, 1)
	price := (p.Amount + units - 1) / units
	return map[string]any{"sku": "CD", "name": "CD", "quantity": units, "unit_price": price, "discount": price*units - p.Amount}
}

// MerchantZone asks the API (GET /v1/merchant, with one of the merchant's
// API keys) for the merchant's time zone: the zone a purchase file's
// calendar dates are meant in.
func MerchantZone(ctx context.Context, url, apiKey string, hc *http.Client) (*time.Location, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/merchant", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return nil, fmt.Errorf("GET /v1/merchant answered %d: %s", resp.StatusCode, b)
	}
	var m struct {
		TimeZone string `json:"time_zone"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return nil, fmt.Errorf("GET /v1/merchant: %w", err)
	}
	return time.LoadLocation(m.TimeZone)
}

// Client delivers signed batches to a merchant's webhook.
type Client struct {
	URL      string // base URL of the API, e.g. http://127.0.0.1:8080
	Merchant string
	Secret   string // whsec_…
	Currency string
	HTTP     *http.Client
	// Prefix, when set, replaces the IDs of Event and of the deliveries
	// (event <Prefix>-<i>, order <Prefix>-order-<i>, webhook-id
	// msg_<Prefix>_<first>), so that two loads into one merchant do not
	// collide (the demo's purchases and `make load`).
	Prefix string
}

// BatchSize is the events per webhook delivery.
const BatchSize = 100

// Load delivers the purchases in batches, calling progress after each.
func (c Client) Load(ctx context.Context, ps []Purchase, progress func(done, total int)) error {
	for start := 0; start < len(ps); start += BatchSize {
		end := min(start+BatchSize, len(ps))
		evs := make([]map[string]any, 0, end-start)
		for i := start; i < end; i++ {
			ev := ps[i].Event(i, c.Currency)
			if c.Prefix != "" {
				ev["event_id"], ev["order_id"] = fmt.Sprintf("%s-%d", c.Prefix, i), fmt.Sprintf("%s-order-%d", c.Prefix, i)
			}
			evs = append(evs, ev)
		}
		body, err := json.Marshal(map[string]any{"events": evs})
		if err != nil {
			return err
		}
		id := fmt.Sprintf("msg_load_%d", start)
		if c.Prefix != "" {
			id = fmt.Sprintf("msg_%s_%d", c.Prefix, start)
		}
		if err := c.deliver(ctx, id, body); err != nil {
			return fmt.Errorf("purchases %d–%d: %w", start, end-1, err)
		}
		if progress != nil {
			progress(end, len(ps))
		}
	}
	return nil
}

func (c Client) deliver(ctx context.Context, id string, body []byte) error {
	now := time.Now()
	sig, err := webhook.Sign(c.Secret, id, now, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+"/v1/webhooks/"+c.Merchant+"/purchases", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderID, id)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, sig)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("webhook answered %d: %s", resp.StatusCode, b)
	}
	return nil
}

// Synthetic returns the purchase history of n customers over the year
// before end: purchase counts per customer are geometric-like with a long
// tail (most buy once or twice, a few buy weekly), spend per purchase is
// log-normal around 25.00, and dates are uniform after each customer's
// first purchase. The same seed gives the same history.
func Synthetic(n int, end time.Time, seed uint64) []Purchase {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var out []Purchase
	for c := range n {
		// Frequency: exponential with mean 3, heavy tail capped at 60.
		k := 1 + int(math.Min(59, rng.ExpFloat64()*3))
		first := end.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		for range k {
			at := first.Add(time.Duration(rng.Int64N(int64(end.Sub(first)) + 1)))
			amount := int64(math.Round(math.Exp(math.Log(2500) + 0.6*rng.NormFloat64())))
			out = append(out, Purchase{Customer: strconv.Itoa(c + 1), Date: at, Units: 1 + rng.Int64N(4), Amount: amount})
		}
	}
	return out
}

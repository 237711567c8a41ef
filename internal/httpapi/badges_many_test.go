package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/ids"
	"github.com/regulars/regulars/internal/loyalty"
)

// A manual posting that crosses every one of 200 badges, then a spend that
// drops below all of them, are applied whole through the API: the ledger,
// the badges held, every badge's holder list and the timeline (a DynamoDB
// transaction takes 100 items at most).
func TestPostingCrossingManyBadges(t *testing.T) {
	e := newEnv(t)
	e.seedProgram(t)
	const n = 200
	var badges []string
	for i := range n {
		var b struct{ ID string }
		e.must(http.StatusCreated, "POST", "/v1/badges", e.key, map[string]any{"title": "Nivel " + strconv.Itoa(i), "from": i + 1}).decode(t, &b)
		badges = append(badges, b.ID)
	}
	c := e.create(map[string]any{"given_name": "Ana"})
	pts := "/v1/customers/" + c.ID + "/points"
	holders := func(bid string) int {
		var h struct{ Data []struct{ ID string } }
		e.must(http.StatusOK, "GET", "/v1/badges/"+bid+"/customers", e.key, nil).decode(t, &h)
		return len(h.Data)
	}
	events := func() map[string]int {
		var tl struct {
			Data []struct {
				Event *struct{ Type string } `json:"event"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		out := map[string]int{}
		for cursor := ""; ; {
			e.must(http.StatusOK, "GET", "/v1/customers/"+c.ID+"/timeline?limit=100"+cursor, e.key, nil).decode(t, &tl)
			for _, it := range tl.Data {
				if it.Event != nil {
					out[it.Event.Type]++
				}
			}
			if tl.NextCursor == nil {
				return out
			}
			cursor = "&cursor=" + *tl.NextCursor
			tl.Data, tl.NextCursor = nil, nil
		}
	}

	var p posting
	e.must(http.StatusCreated, "POST", pts+"/entries", e.key, map[string]any{"points": 250}).decode(t, &p)
	if p.Balance != 250 || len(p.Change.BadgesGained) != n {
		t.Fatalf("earn 250: balance %d, %d badges gained", p.Balance, len(p.Change.BadgesGained))
	}
	for _, bid := range []string{badges[0], badges[n/2], badges[n-1]} {
		if h := holders(bid); h != 1 {
			t.Fatalf("badge %s has %d holders", bid, h)
		}
	}
	if ev := events(); ev["badge_gained"] != n {
		t.Fatalf("timeline events %v", ev)
	}

	e.must(http.StatusCreated, "POST", pts+"/entries", e.key, map[string]any{"points": -250}).decode(t, &p)
	if p.Balance != 0 || len(p.Change.BadgesLost) != n {
		t.Fatalf("spend 250: balance %d, %d badges lost", p.Balance, len(p.Change.BadgesLost))
	}
	for _, bid := range badges {
		if h := holders(bid); h != 0 {
			t.Fatalf("badge %s still has %d holders", bid, h)
		}
	}
	if ev := events(); ev["badge_gained"] != n || ev["badge_lost"] != n {
		t.Fatalf("timeline events %v", ev)
	}
	if sum, _ := e.ledgerSum(t, c.ID); sum != 0 {
		t.Fatalf("ledger sums to %d", sum)
	}
	var summary struct {
		Balance int64 `json:"balance"`
		Badges  []any `json:"badges"`
	}
	e.must(http.StatusOK, "GET", pts, e.key, nil).decode(t, &summary)
	if summary.Balance != 0 || len(summary.Badges) != 0 {
		t.Fatalf("summary %+v", summary)
	}
}

// A merchant's badges are bounded (the profile holds those held): the one
// past the limit is refused with 422, and deleting one makes room.
func TestBadgeLimit(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	var last string
	for i := range loyalty.MaxBadges {
		last = ids.New(at)
		if err := e.store.PutBadge(t.Context(), e.merchant.ID, loyalty.Badge{ID: last, Title: "B" + strconv.Itoa(i), From: int64(i), Basis: loyalty.BasisBalance}, false); err != nil {
			t.Fatal(err)
		}
	}
	badge := map[string]any{"title": "Una más", "from": 1}
	e.must(http.StatusUnprocessableEntity, "POST", "/v1/badges", e.key, badge)
	e.must(http.StatusNoContent, "DELETE", "/v1/badges/"+last, e.key, nil)
	e.must(http.StatusCreated, "POST", "/v1/badges", e.key, badge)
}

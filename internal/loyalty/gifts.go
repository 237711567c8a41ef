package loyalty

import (
	"fmt"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// Cadence is how often a periodic gift is given.
type Cadence string

// Cadences.
const (
	Daily   Cadence = "daily"
	Weekly  Cadence = "weekly"
	Monthly Cadence = "monthly"
	Yearly  Cadence = "yearly"
)

// GiftSchedule gives points at regular intervals to everyone or to the
// customers with a tag.
type GiftSchedule struct {
	ID          string
	Points      int64
	Description string
	Cadence     Cadence
	Tag         string // empty: every active customer
	Active      bool
}

// Validate checks a schedule.
func (g GiftSchedule) Validate() (GiftSchedule, error) {
	var fe apperr.Fields
	if g.Points <= 0 || g.Points > maxPoints {
		fe.Add("/points", "must be between 1 and %d", maxPoints)
	}
	g.Description = strings.TrimSpace(g.Description)
	if g.Description == "" || len(g.Description) > 200 {
		fe.Add("/description", "must be 1 to 200 characters")
	}
	switch g.Cadence {
	case Daily, Weekly, Monthly, Yearly:
	default:
		fe.Add("/cadence", "must be daily, weekly, monthly or yearly")
	}
	if len(g.Tag) > 64 {
		fe.Add("/tag", "must be at most 64 characters")
	}
	if err := fe.Err(); err != nil {
		return GiftSchedule{}, err
	}
	return g, nil
}

// Period names the period that contains asOf in the merchant's time zone:
// a gift is given at most once per period, whatever runs how often.
func (c Cadence) Period(asOf time.Time, loc *time.Location) string {
	t := asOf.In(loc)
	switch c {
	case Daily:
		return t.Format("2006-01-02")
	case Weekly:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	case Monthly:
		return t.Format("2006-01")
	}
	return t.Format("2006")
}

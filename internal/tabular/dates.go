package tabular

import (
	"math"
	"regexp"
	"strconv"
	"time"
)

// DateSystem is the calendar in which a workbook counts the serial numbers
// it stores dates as (ECMA-376 Part 1, 18.17.4.1). A [Reader] knows its
// file's: [Reader.Dates].
type DateSystem uint8

const (
	// Date1900 is Excel's default: serial 1 is 1900-01-01 and 45292 is
	// 2024-01-01. Serial 60 is 1900-02-29, a day that never was (Lotus
	// 1-2-3 counted 1900 as a leap year), so serials before it are one day
	// later than the count from 1899-12-30 gives.
	Date1900 DateSystem = iota
	// Date1904 is the system of workbooks from early Excel for Mac
	// (<workbookPr date1904="1"/>): serial 0 is 1904-01-01 and 43830 is
	// 2024-01-01, 1462 days less than in Date1900.
	Date1904
)

var (
	serialNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	epoch1900    = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	epoch1904    = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	lastDate     = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// Date reads s, a date as a cell stores it (a serial number: whole days,
// and the time of day as the fraction), as a time in UTC rounded to the
// second. It reports false for anything else: text, a negative number, a
// serial before the system's first day (1900-01-01, 1904-01-01) or after
// 9999-12-31, and Date1900's 1900-02-29.
func (d DateSystem) Date(s string) (time.Time, bool) {
	if !serialNumber.MatchString(s) {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f > 3e6 { // beyond 9999 in either system
		return time.Time{}, false
	}
	epoch := epoch1904
	if d == Date1900 {
		switch {
		case f < 1 || f >= 60 && f < 61:
			return time.Time{}, false
		case f < 60:
			epoch = epoch1900.AddDate(0, 0, 1)
		default:
			epoch = epoch1900
		}
	}
	days := math.Floor(f) // a time.Duration spans only 292 years
	t := epoch.AddDate(0, 0, int(days)).Add(time.Duration(math.Round((f-days)*86400)) * time.Second)
	if t.After(lastDate) {
		return time.Time{}, false
	}
	return t, true
}

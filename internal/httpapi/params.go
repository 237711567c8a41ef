package httpapi

import (
	"slices"
	"strconv"
	"strings"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/crm"
)

// listPage is the page a list is asked for: ?limit (default 50, at most
// 100) and ?cursor (empty: the first page).
type listPage struct {
	limit  int
	cursor string
}

// parsePage reads a list's page and refuses parameters other than limit,
// cursor and the list's filters.
func parsePage(q map[string]string, filters ...string) (listPage, error) {
	var fe apperr.Fields
	for k := range q {
		if k != "limit" && k != "cursor" && !slices.Contains(filters, k) {
			fe.Add("?"+k, "is not a known parameter")
		}
	}
	p := listPage{limit: crm.DefaultLimit, cursor: q["cursor"]}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > crm.MaxLimit {
			fe.Add("?limit", "must be an integer from 1 to %d", crm.MaxLimit)
		}
		p.limit = n
	}
	return p, fe.Err()
}

// enumParam reads parameter name into *dst when it is one of valid, and
// otherwise records that it must be one of them; absent, *dst is kept.
func enumParam[T ~string](q map[string]string, fe *apperr.Fields, name string, dst *T, valid ...T) {
	v, ok := q[name]
	if !ok {
		return
	}
	if !slices.Contains(valid, T(v)) {
		names := make([]string, len(valid))
		for i, x := range valid {
			names[i] = string(x)
		}
		last := len(names) - 1
		fe.Add("?"+name, "must be %s or %s", strings.Join(names[:last], ", "), names[last])
		return
	}
	*dst = T(v)
}

// kindsParam reads the kind filter of a list: ?kind=a,b (a repeated
// ?kind=a&kind=b arrives joined with commas), each one of valid; none when
// absent.
func kindsParam(q map[string]string, valid []string) ([]string, error) {
	v, ok := q["kind"]
	if !ok {
		return nil, nil
	}
	var kinds []string
	for k := range strings.SplitSeq(v, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(valid, k) {
			return nil, apperr.Field("?kind", "must be one or more of %s, separated by commas", strings.Join(valid, ", "))
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds, nil
}

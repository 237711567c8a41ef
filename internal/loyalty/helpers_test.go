package loyalty

import (
	"strings"

	"github.com/regulars/regulars/internal/apperr"
)

// pointsOf returns a pointer to v, for the optional int64 fields.
func pointsOf(v int64) *int64 { return &v }

// validationPaths returns the JSON pointers of a validation error, joined by
// commas in the order reported, or "" for nil.
func validationPaths(err error) string {
	if err == nil {
		return ""
	}
	e := apperr.As(err)
	if e == nil {
		return "not an apperr: " + err.Error()
	}
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Path
	}
	return strings.Join(out, ",")
}

// seedProgram is the default program, switched on: 10 points per 5.00 spent,
// 100 points = 1.00 (so 1 point = 1 minor unit), nothing else set.
func seedProgram() Program {
	p := DefaultProgram()
	p.Enabled = true
	return p
}

// must returns v, panicking on an error the test does not expect.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

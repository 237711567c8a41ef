package cursor

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

var testKey = bytes.Repeat([]byte{7}, MinKeyBytes)

func signer(t testing.TB) *Signer {
	s, err := NewSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestKeys(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{base64.StdEncoding.EncodeToString(testKey), true},
		{" " + base64.StdEncoding.EncodeToString(testKey) + "\n", true},
		{base64.StdEncoding.EncodeToString(testKey[:MinKeyBytes-1]), false},
		{"", false},
		{"not base64!", false},
	} {
		if _, err := ParseKey(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseKey(%q): %v, want ok %v", tc.in, err, tc.ok)
		}
	}
}

// TestBoundToItsList: a cursor opens only for the very list it was made
// for, under the key that made it, unchanged.
func TestBoundToItsList(t *testing.T) {
	s := signer(t)
	list := List{Merchant: "M1", Name: "ledger", Params: []string{"C1"}}
	keys := map[string]string{"PK": "M#M1#C#C1", "SK": "L#01"}
	c := s.SealKeys(list, keys)
	got, ok := s.OpenKeys(c, list, "PK", "SK")
	if !ok || got["PK"] != keys["PK"] || got["SK"] != keys["SK"] {
		t.Fatalf("OpenKeys = %v, %v", got, ok)
	}
	pos, tag, _ := strings.Cut(c, ".")
	forged := map[string]string{"SK": "L#02", "PK": "M#M1#C#C2"}
	for name, tc := range map[string]struct {
		cursor string
		list   List
		names  []string
	}{
		"other merchant":          {c, List{Merchant: "M2", Name: "ledger", Params: []string{"C1"}}, []string{"PK", "SK"}},
		"other list":              {c, List{Merchant: "M1", Name: "badge", Params: []string{"C1"}}, []string{"PK", "SK"}},
		"other customer":          {c, List{Merchant: "M1", Name: "ledger", Params: []string{"C2"}}, []string{"PK", "SK"}},
		"one parameter more":      {c, List{Merchant: "M1", Name: "ledger", Params: []string{"C1", ""}}, []string{"PK", "SK"}},
		"parameters run together": {c, List{Merchant: "M1", Name: "ledgerC1"}, []string{"PK", "SK"}},
		"other key names":         {c, list, []string{"PK", "SK", "GSI1PK"}},
		"other key name":          {c, list, []string{"PK", "GSI1SK"}},
		"other key":               {s.SealKeys(list, keys)[:len(c)-1], list, []string{"PK", "SK"}},
		"forged position":         {base64.RawURLEncoding.EncodeToString([]byte(`{"PK":"M#M1#C#C2","SK":"L#02"}`)) + "." + tag, list, []string{"PK", "SK"}},
		"other key's cursor":      {Random().SealKeys(list, keys), list, []string{"PK", "SK"}},
		"no tag":                  {pos, list, []string{"PK", "SK"}},
		"empty tag":               {pos + ".", list, []string{"PK", "SK"}},
		"padded":                  {pos + "=." + tag, list, []string{"PK", "SK"}},
		"sealed, other keys":      {s.SealKeys(list, forged), List{Merchant: "M1", Name: "ledger", Params: []string{"C2"}}, []string{"PK", "SK"}},
		"too long":                {c + strings.Repeat("A", maxLen), list, []string{"PK", "SK"}},
		"the old unsigned form":   {pos, list, []string{"PK", "SK"}},
		"not keys":                {s.Seal(list, []byte(`["PK","SK"]`)), list, []string{"PK", "SK"}},
	} {
		if got, ok := s.OpenKeys(tc.cursor, tc.list, tc.names...); ok {
			t.Errorf("%s: opened to %v", name, got)
		}
	}
}

func TestOf(t *testing.T) {
	type query struct {
		Order string
		Tag   string
	}
	a := Of("M1", "customers", query{Order: "name"})
	if b := Of("M1", "customers", query{Order: "name"}); len(a.Params) != 1 || a.Params[0] != b.Params[0] {
		t.Fatalf("Of is not deterministic: %v, %v", a, b)
	}
	s := signer(t)
	c := s.Seal(a, []byte("x"))
	if _, ok := s.Open(c, Of("M1", "customers", query{Order: "name", Tag: "vip"})); ok {
		t.Fatal("a cursor of the unfiltered list opens for a filtered one")
	}
}

// FuzzOpenKeys: whatever the cursor, OpenKeys never panics, and what opens
// is exactly what Seal made for that list. The seed corpus runs in plain `go test`; explore with
// go test -fuzz FuzzOpenKeys ./internal/cursor/
func FuzzOpenKeys(f *testing.F) {
	s := signer(f)
	list := List{Merchant: "01HGW2N7E0000000000000000", Name: "customers", Params: []string{`{"Order":"last_visit"}`}}
	good := s.SealKeys(list, map[string]string{"PK": "M#m#C#c", "SK": "PROFILE", "GSI1PK": "M#m#CUSTOMERS", "GSI1SK": "2025#c"})
	pos, tag, _ := strings.Cut(good, ".")
	for _, c := range []string{
		good,
		pos,
		pos + ".",
		"." + tag,
		pos + "." + tag + "A",
		pos + "A." + tag,
		strings.ToUpper(good),
		good + "." + tag,
		base64.RawURLEncoding.EncodeToString([]byte(`{"l":"customers:last_visit:","k":{"PK":"M#m#C#c","SK":"PROFILE","GSI1PK":"M#m#CUSTOMERS","GSI1SK":"2025#c"}}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{}`)) + "." + tag,
		"",
		".",
		"..",
		"\x00",
		"\xff\xfe.\xff",
		strings.Repeat("A", maxLen+1),
	} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c string) {
		if keys, ok := s.OpenKeys(c, list, "PK", "SK", "GSI1PK", "GSI1SK"); ok && len(keys) != 4 {
			t.Fatalf("%q opened to %v", c, keys)
		}
		// What opens is exactly what Seal writes for that position: one
		// spelling per cursor, and nothing a caller could have edited.
		if pos, ok := s.Open(c, list); ok && s.Seal(list, pos) != c {
			t.Fatalf("%q opened but Seal writes %q", c, s.Seal(list, pos))
		}
	})
}

package tenant

import (
	"strings"
	"testing"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

func TestNewMerchant(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, currency, tz string
		paths              string
	}{
		{"Café Central", "eur", "Europe/Madrid", ""},
		{"", "EUR", "Europe/Madrid", "/name"},
		{"X", "EURO", "Europe/Madrid", "/currency"},
		{"X", "XXX", "Europe/Madrid", "/currency"},
		{"X", "JPY", "Mars/Olympus", "/time_zone"},
		{"X", "JPY", "Local", "/time_zone"},
		{"", "", "", "/name,/currency,/time_zone"},
	} {
		m, err := NewMerchant(tc.name, tc.currency, tc.tz, now)
		if tc.paths == "" {
			if err != nil || m.Currency != strings.ToUpper(tc.currency) || m.Location().String() != tc.tz {
				t.Errorf("NewMerchant(%q,%q,%q) = %+v, %v", tc.name, tc.currency, tc.tz, m, err)
			}
			continue
		}
		got := errFields(err)
		if strings.Join(got, ",") != tc.paths {
			t.Errorf("NewMerchant(%q,%q,%q) paths = %v, want %s", tc.name, tc.currency, tc.tz, got, tc.paths)
		}
	}
}

func TestAPIKeys(t *testing.T) {
	k, secret := NewAPIKey("M1", " ci ", ScopeRead, time.Now())
	if !strings.HasPrefix(secret, "rk_") || len(secret) != 35 || !LooksLikeKey(secret) {
		t.Fatalf("secret %q", secret)
	}
	if k.Hash != HashSecret(secret) || strings.Contains(k.Hash, secret) || !strings.HasPrefix(secret, k.Prefix) {
		t.Fatalf("key %+v", k)
	}
	if k.Name != "ci" || k.Scope.CanWrite() || !ScopeAdmin.CanWrite() {
		t.Fatalf("key %+v", k)
	}
	_, other := NewAPIKey("M1", "", ScopeAdmin, time.Now())
	if other == secret {
		t.Fatal("two keys are equal")
	}
	for _, bad := range []string{"", "rk_", "rk_short", "sk_" + secret[3:], secret + "x", "rk_" + strings.Repeat("!", 32)} {
		if LooksLikeKey(bad) {
			t.Errorf("LooksLikeKey(%q) = true", bad)
		}
	}
	if _, err := ParseScope("owner"); err == nil {
		t.Error("unknown scope accepted")
	}
}

func TestMinorUnits(t *testing.T) {
	for code, want := range map[string]int{"EUR": 2, "JPY": 0, "KWD": 3, "CLP": 0} {
		if got, ok := MinorUnits(code); !ok || got != want {
			t.Errorf("MinorUnits(%s) = %d, %v", code, got, ok)
		}
	}
}

func errFields(err error) []string {
	var out []string
	if e := apperr.As(err); e != nil {
		for _, f := range e.Fields {
			out = append(out, f.Path)
		}
	}
	return out
}

func TestCountry(t *testing.T) {
	for tz, want := range map[string]string{"Europe/Madrid": "ES", "Atlantic/Canary": "ES", "Europe/London": "GB", "America/New_York": "US", "UTC": "", "Etc/GMT+1": ""} {
		if got := ZoneCountry(tz); got != want {
			t.Errorf("ZoneCountry(%q) = %q, want %q", tz, got, want)
		}
	}
	for in, want := range map[string]string{"es": "ES", " PT ": "PT", "GB": "GB", "UK": "", "EU": "", "ZZ": "", "ESP": "", "": "", "1A": ""} {
		got, err := NormalizeCountry(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("NormalizeCountry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	m, err := NewMerchant("Café", "EUR", "Europe/Lisbon", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || m.Country != "PT" {
		t.Fatalf("NewMerchant country %q, %v; want PT", m.Country, err)
	}
	if _, err := m.WithCountry("XX"); err == nil {
		t.Fatal("WithCountry(XX) accepted")
	}
}

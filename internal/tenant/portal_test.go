package tenant

import (
	"strings"
	"testing"
	"time"
)

func TestPortalTokens(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	m, _ := NewMerchant("Café", "EUR", "Europe/Madrid", now)
	other, _ := NewMerchant("Otro", "EUR", "Europe/Madrid", now)
	tok, exp := IssuePortalToken(m, "C1", time.Hour, now)
	if !strings.HasPrefix(tok, "ct_") || !exp.Equal(now.Add(time.Hour)) {
		t.Fatalf("token %q expires %v", tok, exp)
	}
	p, err := ParsePortalToken(tok)
	if err != nil || p.MerchantID != m.ID || p.CustomerID != "C1" {
		t.Fatalf("parse: %+v %v", p, err)
	}
	if err := p.Verify(m, now.Add(59*time.Minute)); err != nil {
		t.Fatalf("verify: %v", err)
	}
	if p.Verify(m, now.Add(time.Hour)) == nil {
		t.Error("an expired token verified")
	}
	other.ID = m.ID // same id, other secret
	if p.Verify(other, now) == nil {
		t.Error("a token verified with another merchant's secret")
	}
	// Tampering with the claims breaks the signature.
	forged := strings.Replace(tok, tok[3:10], "AAAAAAA", 1)
	if fp, err := ParsePortalToken(forged); err == nil && fp.Verify(m, now) == nil {
		t.Error("a forged token verified")
	}
	for _, bad := range []string{"", "ct_", "ct_abc", "rk_x.y", "ct_!!.sig", tok + "x"} {
		if p, err := ParsePortalToken(bad); err == nil && p.Verify(m, now) == nil {
			t.Errorf("%q verified", bad)
		}
	}
}

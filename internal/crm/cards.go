package crm

import (
	"crypto/rand"
	"math/big"
	"strings"
	"time"

	"github.com/regulars/regulars/internal/apperr"
)

// CardKind is what a card template is for: promotions, levels or partner
// agreements.
type CardKind string

// Card kinds.
const (
	CardStandard  CardKind = "standard"
	CardPromotion CardKind = "promotion"
	CardPartner   CardKind = "partner"
)

// CardTemplate is a kind of loyalty card a merchant hands out.
type CardTemplate struct {
	ID        string // slug, e.g. "standard", "verano-2026"
	Name      string
	Kind      CardKind
	Active    bool
	CreatedAt time.Time
}

// Validate checks a card template.
func (t CardTemplate) Validate() (CardTemplate, error) {
	var fe apperr.Fields
	if !slug.MatchString(t.ID) {
		fe.Add("/id", "must be 1 to 32 lower-case letters, digits, '-' or '_'")
	}
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || len(t.Name) > 100 || HasControl(t.Name) {
		fe.Add("/name", "must be 1 to 100 characters")
	}
	switch t.Kind {
	case "":
		t.Kind = CardStandard
	case CardStandard, CardPromotion, CardPartner:
	default:
		fe.Add("/kind", "must be standard, promotion or partner")
	}
	if err := fe.Err(); err != nil {
		return CardTemplate{}, err
	}
	return t, nil
}

// DefaultCardTemplates is what every merchant has before defining any.
var DefaultCardTemplates = []CardTemplate{{ID: DefaultCardTemplate, Name: "Standard", Kind: CardStandard, Active: true}}

// NewCardNumber returns a random card number: "RG" and 12 digits.
func NewCardNumber() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000_000_000))
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	s := n.String()
	return "RG" + strings.Repeat("0", 12-len(s)) + s
}

// Package cursor makes the cursors of paged lists tamper-proof and binds each
// to its list. A cursor is base64url(position) "." base64url(tag), where the
// tag is an HMAC-SHA256, keyed by a server secret, over the list the cursor
// belongs to (the merchant, the list's name and every parameter that shapes
// it: customer, filters, order) and the position. A cursor that was not made
// by this server for this very list — forged, edited, truncated, or taken
// from another list, customer, merchant or filter — does not open.
package cursor

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// MinKeyBytes is the shortest key a signer accepts.
const MinKeyBytes = 32

// maxLen bounds the cursors Open reads: real ones are far shorter.
const maxLen = 2048

// tagBytes is the length of a cursor's tag: a truncated HMAC-SHA256.
const tagBytes = 16

// Signer seals and opens cursors with one key.
type Signer struct {
	key []byte
}

// NewSigner returns a signer over key, which must have at least MinKeyBytes.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("a cursor key needs at least %d bytes, got %d", MinKeyBytes, len(key))
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// ParseKey reads a key written as standard base64 (the CURSOR_KEY
// environment variable) and returns its signer.
func ParseKey(s string) (*Signer, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("a cursor key is standard base64, e.g. the output of openssl rand -base64 32")
	}
	return NewSigner(key)
}

// Random returns a signer with a fresh random key: its cursors open only in
// this process (tests, tools that page within one run).
func Random() *Signer {
	key := make([]byte, MinKeyBytes)
	if _, err := rand.Read(key); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return &Signer{key: key}
}

// List names what a cursor pages through: the merchant, the list (e.g.
// "customers", "ledger") and its parameters (a customer ID, the filters and
// order as one canonical string…). Two lists that differ in anything here
// never accept each other's cursors.
type List struct {
	Merchant string
	Name     string
	Params   []string
}

// Of returns a list whose parameters are v's canonical JSON: every field of
// a query struct binds the cursor, including fields added later.
func Of(merchant, name string, v any) List {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("cursor binding of %T: %v", v, err)) // query structs always marshal
	}
	return List{Merchant: merchant, Name: name, Params: []string{string(b)}}
}

func (s *Signer) tag(l List, position []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	var n [binary.MaxVarintLen64]byte
	write := func(b []byte) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
		h.Write(b)
	}
	write([]byte("regulars cursor v1"))
	write([]byte(l.Merchant))
	write([]byte(l.Name))
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(l.Params)))])
	for _, p := range l.Params {
		write([]byte(p))
	}
	write(position)
	return h.Sum(nil)[:tagBytes]
}

// Seal returns the cursor of a position in list l.
func (s *Signer) Seal(l List, position []byte) string {
	return base64.RawURLEncoding.EncodeToString(position) + "." + base64.RawURLEncoding.EncodeToString(s.tag(l, position))
}

// Open returns the position a cursor of list l holds; ok is false for
// anything this signer did not seal for l.
func (s *Signer) Open(c string, l List) (position []byte, ok bool) {
	// base64 decoding skips line breaks: refuse them, so that a cursor has
	// one spelling.
	if len(c) > maxLen || strings.ContainsAny(c, "\r\n") {
		return nil, false
	}
	p, t, found := strings.Cut(c, ".")
	if !found {
		return nil, false
	}
	position, err := base64.RawURLEncoding.Strict().DecodeString(p)
	if err != nil {
		return nil, false
	}
	tag, err := base64.RawURLEncoding.Strict().DecodeString(t)
	if err != nil || !hmac.Equal(tag, s.tag(l, position)) {
		return nil, false
	}
	return position, true
}

// SealKeys returns the cursor of a position given as named key values (the
// keys of the last item of a DynamoDB page).
func (s *Signer) SealKeys(l List, keys map[string]string) string {
	b, err := json.Marshal(keys)
	if err != nil {
		panic(fmt.Sprintf("marshal cursor keys: %v", err)) // a map of strings always marshals
	}
	return s.Seal(l, b)
}

// OpenKeys returns the named key values a cursor of list l holds: exactly
// the names given, each present. ok is false for any other cursor.
func (s *Signer) OpenKeys(c string, l List, names ...string) (map[string]string, bool) {
	b, ok := s.Open(c, l)
	if !ok {
		return nil, false
	}
	var keys map[string]string
	if json.Unmarshal(b, &keys) != nil || len(keys) != len(names) {
		return nil, false
	}
	for _, n := range names {
		if _, ok := keys[n]; !ok {
			return nil, false
		}
	}
	return keys, true
}

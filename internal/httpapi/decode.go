package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/contract"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 1 << 20

// decodeJSON decodes a request body into v strictly: unknown members,
// duplicate names, invalid UTF-8 and wrong types are errors with the JSON
// Pointer of the offending value. readOnly names top-level members that the
// representation has but that clients may not write.
func decodeJSON(body []byte, contentType string, v any, readOnly ...string) error {
	if err := checkJSONContentType(contentType); err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return apperr.Field("", "a JSON object is required")
	}
	var members map[string]jsontext.Value
	if err := json.Unmarshal(body, &members); err != nil {
		return decodeError(err)
	}
	var fe apperr.Fields
	for _, name := range readOnly {
		if _, ok := members[name]; ok {
			fe.Add("/"+name, "is computed by Regulars and cannot be written")
		}
	}
	if err := fe.Err(); err != nil {
		return err
	}
	if err := json.Unmarshal(body, v, json.RejectUnknownMembers(true)); err != nil {
		return decodeError(err)
	}
	return nil
}

// checkContract applies what docs/openapi.yaml declares about the members of
// the route's request body (required, nullable, no control characters in
// text; see package contract) to the raw body, before any handler decodes
// it: one rule for every route. A body that is not JSON is left to
// decodeJSON, which explains what is wrong with it.
func checkContract(routeKey, contentType string, body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 || checkJSONContentType(contentType) != nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil
	}
	return contract.Load().Check(routeKey, v)
}

func checkJSONContentType(ct string) error {
	if ct == "" {
		return nil // tolerated: the body must still be JSON
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return apperr.New(apperr.UnsupportedMedia, "request bodies must be application/json")
	}
	return nil
}

// decodeError explains a JSON decoding failure with a JSON Pointer.
func decodeError(err error) error {
	var se *json.SemanticError
	if errors.As(err, &se) {
		path := string(se.JSONPointer)
		switch {
		case errors.Is(se.Err, json.ErrUnknownName):
			return apperr.Field(path, "is not a known field")
		case se.GoType != nil && se.JSONKind != 0:
			return apperr.Field(path, "must be %s, not %s", describe(se.GoType.String()), kindName(se.JSONKind))
		default:
			return apperr.Field(path, "is not valid here: %v", unwrapMessage(se))
		}
	}
	var sx *jsontext.SyntacticError
	if errors.As(err, &sx) {
		return apperr.Field(string(sx.JSONPointer), "malformed JSON at byte %d: %v", sx.ByteOffset, sx.Err)
	}
	return apperr.Field("", "malformed JSON: %v", err)
}

func unwrapMessage(se *json.SemanticError) string {
	if se.Err != nil {
		return se.Err.Error()
	}
	return "wrong type"
}

func describe(goType string) string {
	switch {
	case strings.Contains(goType, "int"):
		return "an integer"
	case goType == "bool" || goType == "*bool":
		return "true or false"
	case strings.Contains(goType, "string") && strings.HasPrefix(goType, "[]"):
		return "an array of strings"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["):
		return "an object of strings"
	case strings.Contains(goType, "string"), strings.Contains(goType, "Type"), strings.Contains(goType, "State"):
		return "a string"
	case strings.Contains(goType, "Time"):
		return "an RFC 3339 timestamp"
	}
	return "an object"
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 'f', 't':
		return "a boolean"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return fmt.Sprintf("%v", k)
}

// presentMembers returns the top-level member names of a JSON object and
// whether each is null: PATCH needs to tell "absent" from "null".
func presentMembers(body []byte) (map[string]bool, error) {
	var members map[string]jsontext.Value
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, decodeError(err)
	}
	out := make(map[string]bool, len(members))
	for k, v := range members {
		out[k] = v.Kind() == 'n'
	}
	return out, nil
}

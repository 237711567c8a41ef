package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/regulars/regulars/internal/analytics"
	"github.com/regulars/regulars/internal/apperr"
	"github.com/regulars/regulars/internal/ids"
)

// ruleJSON is a segment rule on the wire: {"all": [...]}, {"any": [...]} or
// a condition {"field", "op", "value"} whose value is a string, a number, a
// boolean, or an array of strings or numbers, as the field and op require.
type ruleJSON struct {
	All   []ruleJSON     `json:"all,omitzero"`
	Any   []ruleJSON     `json:"any,omitzero"`
	Field string         `json:"field,omitzero"`
	Op    string         `json:"op,omitzero"`
	Value jsontext.Value `json:"value,omitzero"`
}

// rule converts the wire form, reading each value by its JSON kind.
func (j ruleJSON) rule(path string, fe *apperr.Fields) analytics.Rule {
	r := analytics.Rule{Field: j.Field, Op: j.Op}
	for i, sub := range j.All {
		r.All = append(r.All, sub.rule(fmt.Sprintf("%s/all/%d", path, i), fe))
	}
	for i, sub := range j.Any {
		r.Any = append(r.Any, sub.rule(fmt.Sprintf("%s/any/%d", path, i), fe))
	}
	if j.Field == "" {
		return r
	}
	if (len(j.All) > 0 || len(j.Any) > 0) && (j.Op != "" || len(j.Value) > 0) {
		fe.Add(path, "is either a condition or all/any, not both")
		return r
	}
	var err error
	want := analytics.ValueKind(j.Field, j.Op)
	switch want {
	case "":
		return r // the field is reported by validation
	case "string":
		err = json.Unmarshal(j.Value, &r.Text)
	case "number":
		err = json.Unmarshal(j.Value, &r.Number)
	case "bool":
		err = json.Unmarshal(j.Value, &r.Bool)
	case "strings":
		err = json.Unmarshal(j.Value, &r.Texts)
	case "numbers":
		err = json.Unmarshal(j.Value, &r.Numbers)
	}
	if err != nil || len(j.Value) == 0 || j.Value.Kind() == 'n' {
		article := map[string]string{"string": "a string", "number": "an integer", "bool": "true or false",
			"strings": "an array of strings", "numbers": "an array of integers"}[want]
		fe.Add(path+"/value", "must be %s for %s %s", article, j.Field, j.Op)
	}
	return r
}

func ruleOf(r analytics.Rule) ruleJSON {
	out := ruleJSON{Field: r.Field, Op: r.Op}
	for _, sub := range r.All {
		out.All = append(out.All, ruleOf(sub))
	}
	for _, sub := range r.Any {
		out.Any = append(out.Any, ruleOf(sub))
	}
	if r.Field == "" {
		return out
	}
	out.Value, _ = json.Marshal(r.Value()) // plain values always marshal
	return out
}

type segmentJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Rule        ruleJSON  `json:"rule"`
	Customers   *int64    `json:"customers,omitzero"` // in listings
	UpdatedAt   time.Time `json:"updated_at"`
}

func segmentOf(s analytics.Segment) segmentJSON {
	return segmentJSON{ID: s.ID, Name: s.Name, Description: s.Description, Rule: ruleOf(s.Rule), UpdatedAt: s.UpdatedAt}
}

// listSegments lists the merchant's segments with their sizes as of the last run.
func (s *Server) listSegments(ctx context.Context, r *request) (response, error) {
	segs, err := s.store.Segments(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	out := make([]segmentJSON, len(segs))
	for i, seg := range segs {
		out[i] = segmentOf(seg)
		n, err := s.store.SegmentSize(ctx, r.merchant.ID, seg.ID)
		if err != nil {
			return response{}, err
		}
		out[i].Customers = &n
	}
	return jsonResponse(http.StatusOK, map[string]any{"data": out}), nil
}

type saveSegmentJSON struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Rule        ruleJSON `json:"rule"`
}

func (s *Server) saveSegment(ctx context.Context, r *request, id string, status int) (response, error) {
	var in saveSegmentJSON
	if err := decodeJSON(r.body, r.header("Content-Type"), &in, "id", "customers", "updated_at"); err != nil {
		return response{}, err
	}
	var fe apperr.Fields
	rule := in.Rule.rule("/rule", &fe)
	if err := fe.Err(); err != nil {
		return response{}, err
	}
	seg, err := analytics.Segment{ID: id, Name: in.Name, Description: in.Description, Rule: rule, UpdatedAt: r.now}.Validate()
	if err != nil {
		return response{}, err
	}
	if err := s.store.PutSegment(ctx, r.merchant.ID, seg, status == http.StatusOK); err != nil {
		return response{}, err
	}
	resp := jsonResponse(status, segmentOf(seg))
	resp.headers["Location"] = "/v1/segments/" + seg.ID
	return resp, nil
}

func (s *Server) createSegment(ctx context.Context, r *request) (response, error) {
	return s.saveSegment(ctx, r, ids.New(r.now), http.StatusCreated)
}

func (s *Server) segmentID(r *request) (string, error) {
	id := r.path["segmentId"]
	if !ids.Valid(id) {
		return "", apperr.New(apperr.NotFound, "segment not found")
	}
	return id, nil
}

func (s *Server) putSegment(ctx context.Context, r *request) (response, error) {
	id, err := s.segmentID(r)
	if err != nil {
		return response{}, err
	}
	return s.saveSegment(ctx, r, id, http.StatusOK)
}

func (s *Server) deleteSegment(ctx context.Context, r *request) (response, error) {
	id, err := s.segmentID(r)
	if err != nil {
		return response{}, err
	}
	if err := s.store.DeleteSegment(ctx, r.merchant.ID, id); err != nil {
		return response{}, err
	}
	return noContent(), nil
}

// listSegmentCustomers lists a segment's customers as of the last run.
func (s *Server) listSegmentCustomers(ctx context.Context, r *request) (response, error) {
	id, err := s.segmentID(r)
	if err != nil {
		return response{}, err
	}
	segs, err := s.store.Segments(ctx, r.merchant.ID)
	if err != nil {
		return response{}, err
	}
	known := false
	for _, seg := range segs {
		known = known || seg.ID == id
	}
	if !known {
		return response{}, apperr.New(apperr.NotFound, "segment not found")
	}
	page, err := parsePage(r.query)
	if err != nil {
		return response{}, err
	}
	members, err := s.store.SegmentMembers(ctx, r.merchant.ID, id, page.limit, page.cursor)
	if err != nil {
		return response{}, err
	}
	return customerPage(r, members), nil
}

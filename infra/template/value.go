package template

import (
	"fmt"
	"strings"
)

// Value is a template value: a literal string, or an intrinsic function that
// CloudFormation resolves at deploy time (Ref, Fn::GetAtt, Fn::Sub). Other
// intrinsics (Fn::If, Fn::Join, ...) parse but fail to Resolve.
type Value struct {
	literal string
	fn      string           // "" for a literal, else the intrinsic: "Ref", "Fn::GetAtt", "Fn::Sub", ...
	id      string           // Ref and Fn::GetAtt: the logical id
	attr    string           // Fn::GetAtt: the attribute
	sub     string           // Fn::Sub: the template string
	subVars map[string]Value // Fn::Sub: the variables of its list form
	params  map[string]parameter
}

// Lookup answers what CloudFormation would for a logical id: with attr "",
// the result of !Ref; otherwise the result of !GetAtt id.attr. It also answers
// pseudo parameters such as AWS::Region. ok is false when it cannot.
type Lookup func(logicalID, attr string) (value string, ok bool)

// String renders v the way it is written in the template, e.g. "!Ref Table".
func (v Value) String() string {
	switch v.fn {
	case "":
		return v.literal
	case "Ref":
		return "!Ref " + v.id
	case "Fn::GetAtt":
		return "!GetAtt " + v.id + "." + v.attr
	case "Fn::Sub":
		return "!Sub " + v.sub
	default:
		return "!" + strings.TrimPrefix(v.fn, "Fn::")
	}
}

// Resolve computes v. References are answered by lookup first; a !Ref of a
// template parameter that lookup does not answer resolves to the parameter's
// Default.
func (v Value) Resolve(lookup Lookup) (string, error) {
	switch v.fn {
	case "":
		return v.literal, nil
	case "Ref":
		return v.ref(v.id, lookup)
	case "Fn::GetAtt":
		if s, ok := lookup(v.id, v.attr); ok {
			return s, nil
		}
		return "", fmt.Errorf("resolve %s: no such resource attribute", v)
	case "Fn::Sub":
		s, err := v.resolveSub(lookup)
		if err != nil {
			return "", fmt.Errorf("resolve %s: %w", v, err)
		}
		return s, nil
	default:
		return "", fmt.Errorf("resolve %s: intrinsic function %s is not supported locally", v, v.fn)
	}
}

func (v Value) ref(id string, lookup Lookup) (string, error) {
	if s, ok := lookup(id, ""); ok {
		return s, nil
	}
	if p, ok := v.params[id]; ok {
		if !p.hasDefault {
			return "", fmt.Errorf("resolve !Ref %s: parameter has no Default", id)
		}
		return p.def, nil
	}
	return "", fmt.Errorf("resolve !Ref %s: no such resource or parameter", id)
}

// resolveSub substitutes ${Name}, ${Name.Attr} and ${AWS::Pseudo}; ${!Text}
// stands for the literal ${Text}.
func (v Value) resolveSub(lookup Lookup) (string, error) {
	var b strings.Builder
	rest := v.sub
	for {
		start := strings.Index(rest, "${")
		if start < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		end := strings.IndexByte(rest[start:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q", v.sub)
		}
		b.WriteString(rest[:start])
		name := rest[start+2 : start+end]
		rest = rest[start+end+1:]
		if literal, ok := strings.CutPrefix(name, "!"); ok {
			b.WriteString("${" + literal + "}")
			continue
		}
		s, err := v.subVar(strings.TrimSpace(name), lookup)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
}

func (v Value) subVar(name string, lookup Lookup) (string, error) {
	if val, ok := v.subVars[name]; ok {
		return val.Resolve(lookup)
	}
	if id, attr, ok := strings.Cut(name, "."); ok {
		if s, ok := lookup(id, attr); ok {
			return s, nil
		}
		return "", fmt.Errorf("no such resource attribute ${%s}", name)
	}
	return v.ref(name, lookup)
}

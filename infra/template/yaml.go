package template

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// errorAt prefixes an error with the template line of n.
func errorAt(n *yaml.Node, format string, args ...any) error {
	if n == nil {
		return fmt.Errorf(format, args...)
	}
	return fmt.Errorf("line %d: %s", n.Line, fmt.Sprintf(format, args...))
}

// deref follows YAML aliases (*anchor).
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// customTag reports whether n carries a CloudFormation short-form tag such as
// !Ref, as opposed to a YAML core tag (!!str, !!int, ...).
func customTag(n *yaml.Node) bool {
	return strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!")
}

// pair is one key and value of a YAML mapping.
type pair struct {
	key   string
	value *yaml.Node
}

// pairs returns the entries of a mapping in document order. A missing node
// (nil) is an empty mapping.
func pairs(n *yaml.Node, what string) ([]pair, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode || customTag(n) {
		return nil, errorAt(n, "%s: expected a mapping", what)
	}
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, pair{key: n.Content[i].Value, value: deref(n.Content[i+1])})
	}
	return out, nil
}

// field returns the value of key in mapping n, or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// items returns the elements of a sequence. A missing node is empty.
func items(n *yaml.Node, what string) ([]*yaml.Node, error) {
	n = deref(n)
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode || customTag(n) {
		return nil, errorAt(n, "%s: expected a list", what)
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out, nil
}

// str returns the literal scalar n; an intrinsic function is an error because
// the caller needs the value to build a local resource.
func str(n *yaml.Node, what string) (string, error) {
	n = deref(n)
	if n == nil {
		return "", fmt.Errorf("%s: missing", what)
	}
	if n.Kind != yaml.ScalarNode || customTag(n) {
		return "", errorAt(n, "%s: expected a literal value, not %s", what, describe(n))
	}
	return n.Value, nil
}

func integer(n *yaml.Node, what string) (int, error) {
	s, err := str(n, what)
	if err != nil {
		return 0, err
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return 0, errorAt(n, "%s: expected an integer, got %q", what, s)
	}
	return i, nil
}

func boolean(n *yaml.Node, what string) (bool, error) {
	s, err := str(n, what)
	if err != nil {
		return false, err
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, errorAt(n, "%s: expected true or false, got %q", what, s)
	}
	return b, nil
}

func strs(n *yaml.Node, what string) ([]string, error) {
	list, err := items(n, what)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	out := make([]string, len(list))
	for i, item := range list {
		if out[i], err = str(item, what); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func describe(n *yaml.Node) string {
	if customTag(n) {
		return n.Tag
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return strconv.Quote(n.Value)
	}
}

// value parses a scalar that may be an intrinsic function, in short form
// (!Ref X, !GetAtt X.Arn, !Sub "...") or long form ({Ref: X}, {"Fn::GetAtt": [X, Arn]}).
func value(n *yaml.Node, params map[string]parameter, what string) (Value, error) {
	n = deref(n)
	if n == nil {
		return Value{}, fmt.Errorf("%s: missing", what)
	}
	if customTag(n) {
		name := strings.TrimPrefix(n.Tag, "!")
		if name != "Ref" && name != "Condition" {
			name = "Fn::" + name
		}
		return intrinsic(name, n, params, what)
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return Value{literal: n.Value}, nil
	case yaml.MappingNode:
		if len(n.Content) == 2 {
			key := n.Content[0].Value
			if key == "Ref" || strings.HasPrefix(key, "Fn::") {
				arg := deref(n.Content[1])
				return intrinsic(key, arg, params, what)
			}
		}
	}
	return Value{}, errorAt(n, "%s: expected a string or an intrinsic function, not %s", what, describe(n))
}

// intrinsic parses the argument of the intrinsic function fn. The tag of arg,
// if any, is ignored: the short form carries the function in the tag.
func intrinsic(fn string, arg *yaml.Node, params map[string]parameter, what string) (Value, error) {
	v := Value{fn: fn, params: params}
	switch fn {
	case "Ref":
		if arg.Kind != yaml.ScalarNode {
			return Value{}, errorAt(arg, "%s: !Ref takes a logical id", what)
		}
		v.id = arg.Value
	case "Fn::GetAtt":
		switch {
		case arg.Kind == yaml.ScalarNode && strings.Contains(arg.Value, "."):
			v.id, v.attr, _ = strings.Cut(arg.Value, ".")
		case arg.Kind == yaml.SequenceNode && len(arg.Content) == 2:
			id, err := str(arg.Content[0], what)
			if err != nil {
				return Value{}, err
			}
			attr, err := str(arg.Content[1], what)
			if err != nil {
				return Value{}, err
			}
			v.id, v.attr = id, attr
		default:
			return Value{}, errorAt(arg, "%s: !GetAtt takes LogicalId.Attribute", what)
		}
	case "Fn::Sub":
		switch {
		case arg.Kind == yaml.ScalarNode:
			v.sub = arg.Value
		case arg.Kind == yaml.SequenceNode && len(arg.Content) == 2:
			s, err := str(arg.Content[0], what)
			if err != nil {
				return Value{}, err
			}
			vars, err := pairs(arg.Content[1], what)
			if err != nil {
				return Value{}, err
			}
			v.sub, v.subVars = s, make(map[string]Value, len(vars))
			for _, p := range vars {
				if v.subVars[p.key], err = value(p.value, params, what+"."+p.key); err != nil {
					return Value{}, err
				}
			}
		default:
			return Value{}, errorAt(arg, "%s: !Sub takes a string or [string, {variables}]", what)
		}
	}
	return v, nil
}

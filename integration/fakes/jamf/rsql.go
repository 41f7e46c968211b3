package jamf

import (
	"errors"
	"fmt"
	"strings"
)

// filterNode is a parsed RSQL filter; get returns a record's value of a
// field.
type filterNode interface {
	match(get func(field string) string) bool
}

type (
	andNode []filterNode
	orNode  []filterNode
	cmpNode struct {
		field  string
		op     string // "==", "!=", "=in=" or "=out="
		values []string
	}
)

func (n andNode) match(get func(string) string) bool {
	for _, c := range n {
		if !c.match(get) {
			return false
		}
	}
	return true
}

func (n orNode) match(get func(string) string) bool {
	for _, c := range n {
		if c.match(get) {
			return true
		}
	}
	return false
}

func (n cmpNode) match(get func(string) string) bool {
	v := get(n.field)
	hit := false
	for _, want := range n.values {
		if wildcardFold(want, v) {
			hit = true
			break
		}
	}
	if n.op == "!=" || n.op == "=out=" {
		return !hit
	}
	return hit
}

// wildcardFold matches v against pattern ignoring case, where * in the
// pattern matches any run of characters (Jamf allows it in == filters).
func wildcardFold(pattern, v string) bool {
	pattern, v = strings.ToLower(pattern), strings.ToLower(v)
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == v
	}
	if !strings.HasPrefix(v, parts[0]) {
		return false
	}
	v = v[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(v, p)
		if i < 0 {
			return false
		}
		v = v[i+len(p):]
	}
	return strings.HasSuffix(v, parts[len(parts)-1])
}

// maxFilterDepth bounds parenthesis nesting, so a hostile filter cannot
// exhaust the stack.
const maxFilterDepth = 32

// parseFilter parses the RSQL subset the fake supports; known says
// which fields the endpoint can filter on.
func parseFilter(s string, known func(string) bool) (filterNode, error) {
	p := &rsqlParser{s: s, known: known}
	n, err := p.or(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i:], p.i)
	}
	return n, nil
}

type rsqlParser struct {
	s     string
	i     int
	known func(string) bool
}

func (p *rsqlParser) ws() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// keyword consumes a separator: sym, or word surrounded by blanks.
func (p *rsqlParser) keyword(sym byte, word string) bool {
	save := p.i
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == sym {
		p.i++
		return true
	}
	if p.i > save && strings.HasPrefix(p.s[p.i:], word+" ") {
		p.i += len(word) + 1
		return true
	}
	p.i = save
	return false
}

func (p *rsqlParser) or(depth int) (filterNode, error) {
	var out orNode
	for {
		n, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if !p.keyword(',', "or") {
			break
		}
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (p *rsqlParser) and(depth int) (filterNode, error) {
	var out andNode
	for {
		n, err := p.term(depth)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if !p.keyword(';', "and") {
			break
		}
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (p *rsqlParser) term(depth int) (filterNode, error) {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		if depth >= maxFilterDepth {
			return nil, errors.New("filter nested too deeply")
		}
		p.i++
		n, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, errors.New("missing )")
		}
		p.i++
		return n, nil
	}
	return p.comparison()
}

func (p *rsqlParser) comparison() (filterNode, error) {
	start := p.i
	for p.i < len(p.s) && isSelectorChar(p.s[p.i]) {
		p.i++
	}
	field := p.s[start:p.i]
	if field == "" {
		return nil, fmt.Errorf("expected a field name at offset %d", start)
	}
	if !p.known(field) {
		return nil, fmt.Errorf("unknown filter field %q", field)
	}
	p.ws()
	op, err := p.operator()
	if err != nil {
		return nil, err
	}
	p.ws()
	var values []string
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		for {
			p.ws()
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			values = append(values, v)
			p.ws()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ')' {
				p.i++
				break
			}
			return nil, errors.New("missing ) after a value list")
		}
	} else {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		values = []string{v}
	}
	if (op == "==" || op == "!=") && len(values) != 1 {
		return nil, fmt.Errorf("%s takes one value", op)
	}
	return cmpNode{field: field, op: op, values: values}, nil
}

func (p *rsqlParser) operator() (string, error) {
	rest := p.s[p.i:]
	for _, op := range []string{"==", "!=", "=in=", "=out="} {
		if strings.HasPrefix(rest, op) {
			p.i += len(op)
			return op, nil
		}
	}
	return "", fmt.Errorf("unsupported operator at offset %d", p.i)
}

func (p *rsqlParser) value() (string, error) {
	if p.i >= len(p.s) {
		return "", errors.New("missing value")
	}
	if q := p.s[p.i]; q == '"' || q == '\'' {
		p.i++
		var b strings.Builder
		for p.i < len(p.s) {
			c := p.s[p.i]
			p.i++
			switch {
			case c == '\\' && p.i < len(p.s):
				b.WriteByte(p.s[p.i])
				p.i++
			case c == q:
				return b.String(), nil
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("unterminated quoted value")
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune("\"'();, \t=!<>~", rune(p.s[p.i])) {
		p.i++
	}
	if p.i == start {
		return "", fmt.Errorf("missing value at offset %d", start)
	}
	return p.s[start:p.i], nil
}

func isSelectorChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
}

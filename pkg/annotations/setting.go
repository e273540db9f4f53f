package annotations

import (
	"errors"
	"fmt"
)

// parser turns a raw value into a T. Every parser rejects the empty string, control characters
// and anything outside its own character set.
type parser[T any] struct {
	// kind describes the accepted values, for the documentation.
	kind string
	// parse validates and converts a raw value.
	parse func(string) (T, error)
	// format is the inverse of parse: the canonical input form of a value. parse(format(v))
	// returns v again (the fuzz tests check it).
	format func(T) string
}

// setting is one registry entry with its typed parser and parsed default.
type setting[T any] struct {
	def    Definition
	parser parser[T]
	// zero is the parsed default (T's zero value when the default is empty).
	zero T
}

// entry is a setting with its type erased, for the lookup tables.
type entry interface {
	definition() *Definition
	parseAny(string) (any, error)
}

func (s *setting[T]) definition() *Definition { return &s.def }

func (s *setting[T]) parseAny(raw string) (any, error) {
	if raw == "" {
		return nil, errors.New("empty value")
	}
	if len(raw) > maxValueLen {
		return nil, fmt.Errorf("too long (%d bytes)", len(raw))
	}
	return s.parser.parse(raw)
}

// spec is how the registry literals describe a setting.
type spec struct {
	name string
	// peer: haproxytech has the same setting under the same name.
	peer bool
	// aliases are further haproxytech names of the setting.
	aliases []string
	scopes  Scope
	def     string
	example string
	group   string
	doc     string
}

var (
	// registry holds every setting in declaration order.
	registry []entry
	// byName finds a setting by its name.
	byName = map[string]entry{}
	// byAlias finds a setting by a haproxytech name.
	byAlias = map[string]aliasOf{}
)

type aliasOf struct {
	entry entry
	rank  int
}

// define registers a setting. It panics on a duplicate name or alias or on a default that its
// own parser rejects: both are programming errors caught by any test run.
func define[T any](sp spec, p parser[T]) *setting[T] {
	d := Definition{
		Name: sp.name, Scopes: sp.scopes, Type: p.kind, Default: sp.def,
		Example: sp.example, Group: sp.group, Doc: sp.doc,
	}
	if sp.peer {
		d.Aliases = append(d.Aliases, sp.name)
	}
	d.Aliases = append(d.Aliases, sp.aliases...)
	s := &setting[T]{def: d, parser: p}
	if sp.def != "" {
		v, err := p.parse(sp.def)
		if err != nil {
			panic(fmt.Sprintf("annotations: default of %s: %v", sp.name, err))
		}
		s.zero = v
	}
	if _, dup := byName[d.Name]; dup {
		panic("annotations: duplicate setting " + d.Name)
	}
	byName[d.Name] = s
	for i, a := range d.Aliases {
		if _, dup := byAlias[a]; dup {
			panic("annotations: duplicate alias " + a)
		}
		byAlias[a] = aliasOf{entry: s, rank: i + 1}
	}
	registry = append(registry, s)
	return s
}

// resolve returns the value of s from the first layer that has it, in the order given, or the
// default. This is the one place where precedence is applied.
func resolve[T any](s *setting[T], layers []Layer) Value[T] {
	for _, l := range layers {
		if f, ok := l.values[s.def.Name]; ok {
			return Value[T]{Value: f.value.(T), Key: f.key, Source: l.source}
		}
	}
	return Value[T]{Value: s.zero, Key: s.def.Name, Source: SourceDefault}
}

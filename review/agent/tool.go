// Package agent runs one reviewer: a bounded tool loop over an llm.Model,
// the read-only repository tools it digs with, confined to the checkout, the
// final submit_review tool and the prompts that ask for a deep review.
package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/deepreview/deep-review/review/llm"
)

// Tool is one tool a model may call: a name, a description, the JSON schema
// of its arguments (derived from one params struct, see NewTool) and Run.
//
// Run returns the text the model reads. A mistake the model can fix (a bad
// path, an invalid pattern, a refused file) comes back as a *ToolError, which
// the loop turns into an error tool result; any other error aborts the run.
type Tool struct {
	Name        string
	Description string
	Schema      json.RawMessage
	run         func(ctx context.Context, args json.RawMessage) (string, error)
}

// Run calls the tool with the model's raw arguments.
func (t Tool) Run(ctx context.Context, args json.RawMessage) (string, error) {
	if t.run == nil {
		return "", fmt.Errorf("tool %s has no implementation; build it with agent.NewTool", t.Name)
	}
	return t.run(ctx, args)
}

// Spec is the tool as a model request describes it.
func (t Tool) Spec() llm.Tool {
	return llm.Tool{Name: t.Name, Description: t.Description, Schema: t.Schema}
}

// ToolError is a mistake the model can read and fix; the loop sends Message
// back as an error tool result and the run goes on.
type ToolError struct {
	Message string
}

func (e *ToolError) Error() string { return e.Message }

// IsToolError reports whether err is (or wraps) a *ToolError.
func IsToolError(err error) bool {
	_, ok := errors.AsType[*ToolError](err)
	return ok
}

// Retry returns a *ToolError with a formatted message for the model.
func Retry(format string, args ...any) error {
	return &ToolError{Message: fmt.Sprintf(format, args...)}
}

// Field documents one property of a params struct in its schema. Fields are
// keyed by their JSON path: dots between levels and "[]" for an array's items
// ("findings" is the array, "findings[].severity" each finding's severity,
// "strengths[]" each strength).
type Field struct {
	Description string
	Enum        []string
}

// NewTool builds a tool whose schema is derived from the params struct P and
// whose arguments are decoded into a P before run is called. Unknown fields and
// ill-typed values come back to the model as a ToolError naming the field;
// missing fields are left at their zero value. fields may document properties
// and restrict strings to an enum; a key that names no property panics, since
// that is a programming error a test catches.
func NewTool[P any](name, description string, fields map[string]Field, run func(ctx context.Context, p P) (string, error)) Tool {
	var zero P
	schema, err := SchemaFor(reflect.TypeOf(zero), fields)
	if err != nil {
		panic(fmt.Sprintf("tool %s: %v", name, err))
	}
	return Tool{
		Name:        name,
		Description: description,
		Schema:      schema,
		run: func(ctx context.Context, raw json.RawMessage) (string, error) {
			var p P
			if err := DecodeArgs(raw, &p); err != nil {
				return "", Retry("%s: %v", name, err)
			}
			return run(ctx, p)
		},
	}
}

// DecodeArgs decodes a tool call's arguments into v strictly: unknown fields
// are refused, and type errors name the field as a JSON path. Empty or null
// arguments decode as an empty object.
func DecodeArgs(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "arguments"
			}
			return fmt.Errorf("%s: got a JSON %s, want %s", field, te.Value, jsonKind(te.Type))
		case errors.As(err, &se):
			return fmt.Errorf("arguments are not valid JSON at byte %d: %v", se.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return fmt.Errorf("arguments are not valid JSON: they end too early")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fmt.Errorf("%s is not a parameter of this tool; send only the schema's properties", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return fmt.Errorf("arguments: %v", err)
	}
	if dec.More() {
		return fmt.Errorf("arguments: more than one JSON value; send one object")
	}
	return nil
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// SchemaFor derives a portable JSON schema from the struct type t: every
// property is required, additionalProperties is false, there is no $ref, oneOf
// or format, a pointer is nullable as a type union (["integer","null"]), and
// properties are named by their json tags (a field tagged "-" is left out).
// fields documents properties as NewTool describes. The output is
// deterministic.
func SchemaFor(t reflect.Type, fields map[string]Field) (json.RawMessage, error) {
	used := map[string]bool{}
	s, err := schemaOf(t, "", fields, used)
	if err != nil {
		return nil, err
	}
	if s["type"] != "object" {
		return nil, fmt.Errorf("params type %s is not a struct", t)
	}
	for k := range fields {
		if !used[k] {
			return nil, fmt.Errorf("field doc %q names no property of %s", k, t)
		}
	}
	return json.Marshal(s)
}

func schemaOf(t reflect.Type, path string, fields map[string]Field, used map[string]bool) (map[string]any, error) {
	nullable := false
	if t.Kind() == reflect.Pointer {
		nullable = true
		t = t.Elem()
	}
	s := map[string]any{}
	var typ string
	switch t.Kind() {
	case reflect.String:
		typ = "string"
	case reflect.Bool:
		typ = "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		typ = "integer"
	case reflect.Float32, reflect.Float64:
		typ = "number"
	case reflect.Slice, reflect.Array:
		typ = "array"
		items, err := schemaOf(t.Elem(), path+"[]", fields, used)
		if err != nil {
			return nil, err
		}
		s["items"] = items
	case reflect.Struct:
		typ = "object"
		props := map[string]any{}
		required := []string{}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			ps, err := schemaOf(f.Type, p, fields, used)
			if err != nil {
				return nil, err
			}
			props[name] = ps
			required = append(required, name)
		}
		s["properties"] = props
		s["required"] = required
		s["additionalProperties"] = false
	default:
		return nil, fmt.Errorf("%s: type %s has no portable schema", path, t)
	}
	if nullable {
		s["type"] = []string{typ, "null"}
	} else {
		s["type"] = typ
	}
	if doc, ok := fields[path]; ok && path != "" {
		used[path] = true
		if doc.Description != "" {
			s["description"] = doc.Description
		}
		if len(doc.Enum) > 0 {
			if typ != "string" {
				return nil, fmt.Errorf("%s: enum on a %s", path, typ)
			}
			s["enum"] = doc.Enum
		}
	}
	return s, nil
}

package agent

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/deepreview/deep-review/review"
	jsonschema "github.com/santhosh-tekuri/jsonschema/v6"
)

// TestSchemasArePortable walks every tool's schema: objects list every
// property as required and forbid others, nothing uses $ref, oneOf, anyOf,
// allOf or format, and a type is a string or a union with "null".
func TestSchemasArePortable(t *testing.T) {
	t.Parallel()
	tools := append(RepoTools(&review.PR{}), SubmitTool())
	names := []string{}
	for _, tl := range tools {
		names = append(names, tl.Name)
		var s any
		if err := json.Unmarshal(tl.Schema, &s); err != nil {
			t.Fatalf("%s schema: %v", tl.Name, err)
		}
		checkPortable(t, tl.Name, s)
		if _, err := jsonschema.UnmarshalJSON(strings.NewReader(string(tl.Schema))); err != nil {
			t.Errorf("%s schema is not JSON: %v", tl.Name, err)
		}
		c := jsonschema.NewCompiler()
		doc, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(tl.Schema)))
		if err := c.AddResource(tl.Name+".json", doc); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Compile(tl.Name + ".json"); err != nil {
			t.Errorf("%s schema does not compile: %v", tl.Name, err)
		}
	}
	want := []string{"read_file", "grep", "list_files", "git_log", "git_blame", "show_base", "diff", "submit_review"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("tool names = %v, want %v", names, want)
	}
}

func checkPortable(t *testing.T, where string, v any) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: schema is %T, want an object", where, v)
	}
	for _, k := range []string{"$ref", "$defs", "definitions", "oneOf", "anyOf", "allOf", "format", "$schema"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s uses %s", where, k)
		}
	}
	var types []string
	switch ty := m["type"].(type) {
	case string:
		types = []string{ty}
	case []any:
		if len(ty) != 2 || ty[1] != "null" {
			t.Errorf("%s: type %v, want a type or [type, null]", where, ty)
		}
		for _, x := range ty {
			types = append(types, x.(string))
		}
	default:
		t.Fatalf("%s: no type", where)
	}
	switch types[0] {
	case "object":
		props, _ := m["properties"].(map[string]any)
		req, _ := m["required"].([]any)
		if len(req) != len(props) {
			t.Errorf("%s: %d required of %d properties", where, len(req), len(props))
		}
		for _, r := range req {
			if _, ok := props[r.(string)]; !ok {
				t.Errorf("%s: required %v is not a property", where, r)
			}
		}
		if m["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties is %v, want false", where, m["additionalProperties"])
		}
		for k, p := range props {
			checkPortable(t, where+"."+k, p)
		}
	case "array":
		checkPortable(t, where+"[]", m["items"])
	}
}

func TestSchemaShape(t *testing.T) {
	t.Parallel()
	var s map[string]any
	json.Unmarshal(tool(t, RepoTools(&review.PR{}), ToolReadFile).Schema, &s)
	props := s["properties"].(map[string]any)
	if got := props["start"].(map[string]any)["type"]; !reflect.DeepEqual(got, []any{"integer", "null"}) {
		t.Errorf("read_file start type = %v, want [integer null]", got)
	}
	if got := props["path"].(map[string]any)["type"]; got != "string" {
		t.Errorf("read_file path type = %v", got)
	}
	if got := s["required"]; !reflect.DeepEqual(got, []any{"path", "start", "end"}) {
		t.Errorf("read_file required = %v", got)
	}

	json.Unmarshal(SubmitTool().Schema, &s)
	findings := s["properties"].(map[string]any)["findings"].(map[string]any)
	sev := findings["items"].(map[string]any)["properties"].(map[string]any)["severity"].(map[string]any)
	if !reflect.DeepEqual(sev["enum"], []any{"critical", "important", "suggestion"}) {
		t.Errorf("severity enum = %v", sev["enum"])
	}
	want := []any{"summary", "verdict", "findings", "concerns", "strengths", "testing", "documentation", "commit_structure", "limitations", "unresolved_feedback", "files_reviewed"}
	if !reflect.DeepEqual(s["required"], want) {
		t.Errorf("submit_review required = %v, want %v", s["required"], want)
	}

	a, _ := SchemaFor(reflect.TypeOf(review.Submission{}), submitFields)
	b, _ := SchemaFor(reflect.TypeOf(review.Submission{}), submitFields)
	if string(a) != string(b) {
		t.Error("the schema is not deterministic")
	}
}

func TestSchemaForRefusesMistakes(t *testing.T) {
	t.Parallel()
	type P struct {
		Name string         `json:"name"`
		M    map[string]int `json:"m"`
	}
	if _, err := SchemaFor(reflect.TypeOf(P{}), nil); err == nil {
		t.Error("a map field got a schema")
	}
	type Q struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	if _, err := SchemaFor(reflect.TypeOf(Q{}), map[string]Field{"nmae": {Description: "x"}}); err == nil || !strings.Contains(err.Error(), "nmae") {
		t.Errorf("a doc for no property: %v", err)
	}
	if _, err := SchemaFor(reflect.TypeOf(Q{}), map[string]Field{"n": {Enum: []string{"a"}}}); err == nil {
		t.Error("an enum on an integer was accepted")
	}
}

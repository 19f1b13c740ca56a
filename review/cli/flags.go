package cli

import (
	"flag"
	"strings"

	"github.com/deepreview/deep-review/review/config"
)

// inputValues holds the raw text of every input, bound to its flag.
type inputValues map[string]*string

// registerInputs adds a string flag per input to fs.
func registerInputs(fs *flag.FlagSet) inputValues {
	v := inputValues{}
	for _, in := range config.Inputs {
		if in.File {
			desc := in.Description + " Also settable in the config file."
			if in.Default != "" {
				desc += " Default " + in.Default + "."
			}
			v[in.Name] = fs.String(in.Name, "", desc)
			continue
		}
		v[in.Name] = fs.String(in.Name, in.Default, in.Description)
	}
	// --out is the design's short alias of --out-dir.
	fs.Var(aliasValue{v["out-dir"]}, "out", "alias of --out-dir")
	return v
}

// aliasValue makes a second flag write the same string.
type aliasValue struct{ p *string }

func (a aliasValue) String() string {
	if a.p == nil {
		return ""
	}
	return *a.p
}
func (a aliasValue) Set(s string) error { *a.p = s; return nil }

// fromActionEnv fills every input that Actions passed as INPUT_<NAME> and
// that no flag set explicitly. Actions keeps the hyphens: INPUT_PR-NUMBER.
func (v inputValues) fromActionEnv(getenv func(string) string, setByFlag map[string]bool) {
	for _, in := range config.Inputs {
		if setByFlag[in.Name] {
			continue
		}
		if s := strings.TrimSpace(getenv("INPUT_" + strings.ToUpper(in.Name))); s != "" {
			*v[in.Name] = s
		}
	}
}

// parse reads the inputs into settings with config.Values.Settings: an
// input given wins, then the config file (cfg may be nil), then the
// environment and the defaults.
func (v inputValues) parse(getenv func(string) string, cfg *config.Config) (config.Settings, error) {
	raw := config.Values{}
	for name, p := range v {
		raw[name] = *p
	}
	return raw.Settings(getenv, cfg)
}

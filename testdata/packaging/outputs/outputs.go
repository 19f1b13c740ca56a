// Package outputs is input for packaging_test.go's SetOutput collector:
// one literal, one table, one computed name it must refuse, and a
// flag.FlagSet.SetOutput it must ignore. Line numbers matter.
package outputs

import (
	"flag"
	"io"
)

type action interface{ SetOutput(name, value string) }

func literal(a action) {
	a.SetOutput("from-literal", "1")
}

func table(a action) {
	outputs := [][2]string{{"table-a", "1"}, {"table-b", "2"}}
	for _, o := range outputs {
		a.SetOutput(o[0], o[1])
	}
}

func computed(a action, name string) {
	flag.NewFlagSet("x", flag.ContinueOnError).SetOutput(io.Discard)
	a.SetOutput("prefix-"+name, "1")
}

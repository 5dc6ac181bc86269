// cel-cost: the CEL cost of an admission policy's expressions (a ValidatingAdmissionPolicy's, a
// Kyverno ValidatingPolicy's or a Gatekeeper K8sNativeValidation block's), as the Kubernetes API
// server's own CEL library counts it (k8s.io/apiserver: its base environment, cost model and
// limits): each expression's estimated cost (cel-go's estimator) and its actual cost on each
// object given.
//
// Input (stdin, JSON): {"variables": [{"name", "expression"}], "expressions": [{"name",
// "expression", "onFailureOf"?}], "params": <object or null>, "objects": [<object>]}. Variables are evaluated in
// order (all of them; Kubernetes evaluates one when first read), then the other expressions.
// Output (stdout, JSON): per expression its estimate and the largest actual cost over the
// objects; per object the sum of every expression's actual cost.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/apiserver/pkg/cel/library"
)

// The hash of the sources, stamped in by scripts/install-engines.sh (`cel-cost --version`).
var source = "dev"

type named struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
	// A messageExpression: evaluated only when the named expression (its validation) is false.
	OnFailureOf string `json:"onFailureOf,omitempty"`
}

type input struct {
	Variables   []named          `json:"variables"`
	Expressions []named          `json:"expressions"`
	Params      any              `json:"params"`
	Objects     []map[string]any `json:"objects"`
}

type costOf struct {
	Name string `json:"name"`
	// Estimated minimum and maximum (cel-go's estimator, Kubernetes' cost model); a maximum of
	// math.MaxUint64 means unbounded (input sizes the estimator cannot know).
	EstimateMin uint64 `json:"estimateMin"`
	EstimateMax uint64 `json:"estimateMax"`
	Unbounded   bool   `json:"unbounded"`
	// The largest actual cost over the objects.
	ActualMax uint64 `json:"actualMax"`
	Length    int    `json:"length"`
}

type output struct {
	Expressions []costOf `json:"expressions"`
	// Per object: the sum of the actual costs of every expression.
	Totals []uint64 `json:"totals"`
}

// unknownSizes: the estimator is told nothing about input sizes (objects are dyn).
type unknownSizes struct{}

func (unknownSizes) EstimateSize(checker.AstNode) *checker.SizeEstimate { return nil }
func (unknownSizes) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cel-cost: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println("cel-cost " + source)
		return
	}
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("reading the input: %v", err)
	}
	base, err := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()).Env(environment.StoredExpressions)
	if err != nil {
		fail("%v", err)
	}
	env, err := base.Extend(
		cel.Variable("object", cel.DynType),
		cel.Variable("oldObject", cel.DynType),
		cel.Variable("request", cel.DynType),
		cel.Variable("params", cel.DynType),
		cel.Variable("namespaceObject", cel.DynType),
		cel.Variable("variables", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		fail("%v", err)
	}
	estimator := &library.CostEstimator{SizeEstimator: unknownSizes{}}
	all := append(append([]named{}, in.Variables...), in.Expressions...)
	programs := make([]cel.Program, len(all))
	out := output{Expressions: make([]costOf, len(all)), Totals: make([]uint64, len(in.Objects))}
	for i, e := range all {
		ast, iss := env.Compile(e.Expression)
		if iss.Err() != nil {
			fail("%s: %v", e.Name, iss.Err())
		}
		est, err := env.EstimateCost(ast, estimator)
		if err != nil {
			fail("%s: estimating: %v", e.Name, err)
		}
		// The actual cost is wanted even past Kubernetes' per-call limit.
		prg, err := env.Program(ast, cel.EvalOptions(cel.OptTrackCost), cel.CostLimit(math.MaxUint64))
		if err != nil {
			fail("%s: %v", e.Name, err)
		}
		programs[i] = prg
		out.Expressions[i] = costOf{Name: e.Name, EstimateMin: est.Min, EstimateMax: est.Max, Unbounded: est.Max == math.MaxUint64, Length: len(e.Expression)}
	}
	for k, obj := range in.Objects {
		ns := ""
		if md, ok := obj["metadata"].(map[string]any); ok {
			if s, ok := md["namespace"].(string); ok {
				ns = s
			}
		}
		vars := map[string]any{}
		act := map[string]any{
			"object": obj, "oldObject": nil, "params": in.Params, "namespaceObject": nil, "variables": vars,
			"request": map[string]any{"namespace": ns, "operation": "CREATE", "kind": map[string]any{"group": "", "version": "v1", "kind": obj["kind"]}},
		}
		results := map[string]any{}
		for i, prg := range programs {
			if when := all[i].OnFailureOf; when != "" && results[when] != false {
				continue
			}
			val, det, err := prg.Eval(act)
			if err != nil {
				fail("%s on object %d: %v", all[i].Name, k, err)
			}
			cost := uint64(0)
			if det != nil && det.ActualCost() != nil {
				cost = *det.ActualCost()
			}
			if i < len(in.Variables) {
				vars[all[i].Name] = val
			}
			results[all[i].Name] = val.Value()
			out.Totals[k] += cost
			if cost > out.Expressions[i].ActualMax {
				out.Expressions[i].ActualMax = cost
			}
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("%v", err)
	}
}

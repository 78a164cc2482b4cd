// Package apistaging holds the generated Kubernetes API types while
// examples/api is being restructured: api (core/v1 and the shared
// meta-level types) and one package per API group under api/. The files
// named zz_generated.* are written by examples/internal/apigen from the
// committed facts and descriptions; the rest of api/ stands in for what
// examples/api already has. Moving the tree to examples/api changes only
// the generator's -out and -import flags.
package apistaging

//go:generate go run ../internal/apigen/cmd/apigen -facts ../internal/apigen/facts/schema.json -descriptions ../internal/apigen/descriptions.txt -out . -import github.com/setpoint-dev/setpoint/examples/apistaging

package multicluster

// The DeepCopy methods of this package's struct types are generated into
// zz_generated_deepcopy.go by cmd/deepcopy-gen ("go generate
// ./examples/api/...").
//
//go:generate go run github.com/setpoint-dev/setpoint/cmd/deepcopy-gen -all

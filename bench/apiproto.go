package main

// The protobuf codec of the generated API types (examples/api)
// against k8s.io/api's generated gogo-protobuf code, on the same Pod.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	api "github.com/setpoint-dev/setpoint/examples/api"
)

func init() {
	register("apiproto", runAPIProto)
}

func runAPIProto(ctx context.Context) ([]Result, error) {
	var ours api.Pod
	var theirs corev1.Pod
	if err := json.Unmarshal([]byte(benchPod), &ours); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(benchPod), &theirs); err != nil {
		return nil, err
	}
	ob, err := ours.Marshal()
	if err != nil {
		return nil, err
	}
	tb, err := theirs.Marshal()
	if err != nil {
		return nil, err
	}
	if string(ob) != string(tb) {
		return nil, fmt.Errorf("apiproto: the two encodings of the bench pod differ (%d and %d bytes)", len(ob), len(tb))
	}
	oursRT := func() error {
		b, err := ours.Marshal()
		if err != nil {
			return err
		}
		var p api.Pod
		return p.Unmarshal(b)
	}
	theirsRT := func() error {
		b, err := theirs.Marshal()
		if err != nil {
			return err
		}
		var p corev1.Pod
		return p.Unmarshal(b)
	}
	o, a, err := compareRates(ctx, 4*time.Second, oursRT, theirsRT)
	if err != nil {
		return nil, err
	}
	return []Result{{Name: "apitypes-proto-roundtrip-pod", Ours: o, Anchor: a, Unit: "ops/s", HigherIsBetter: true}}, nil
}

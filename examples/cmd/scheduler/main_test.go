package main

import "testing"

func TestParse(t *testing.T) {
	if _, err := parse(nil); err == nil {
		t.Error("no error without --kubeconfig")
	}
	if _, err := parse([]string{"--kubeconfig", "k", "--qps", "x"}); err == nil {
		t.Error("no error for a bad --qps")
	}
	o, err := parse([]string{"--kubeconfig", "k", "--percentage-of-nodes-to-score", "30", "--listen", "", "--leader-elect"})
	if err != nil || o.kubeconfig != "k" || o.percentage != 30 || o.listen != "" || !o.elect {
		t.Fatalf("%+v %v", o, err)
	}
}

package patch

import (
	"errors"
	"testing"
)

func FuzzMergePatch(f *testing.F) {
	f.Add(`{"a":"b"}`, `{"a":null,"c":{"d":[1]}}`)
	f.Add(`[1,2]`, `{"a":"b","c":null}`)
	f.Add(`{}`, `null`)
	f.Add(`{"a":`, `{}`)
	f.Fuzz(func(t *testing.T, doc, patch string) {
		out, err := MergePatch([]byte(doc), []byte(patch))
		if err != nil {
			if !errors.Is(err, ErrInvalidPatch) {
				t.Fatalf("error does not wrap ErrInvalidPatch: %v", err)
			}
			return
		}
		// applying the same merge patch twice changes nothing more
		again, err := MergePatch(out, []byte(patch))
		if err != nil {
			t.Fatalf("re-applying to a result failed: %v", err)
		}
		a, _ := decode("a", out)
		b, _ := decode("b", again)
		if !Equal(a, b) {
			t.Fatalf("merge patch not idempotent: %s then %s", out, again)
		}
	})
}

func FuzzJSONPatch(f *testing.F) {
	f.Add(`{"foo":["bar","baz"]}`, `[{"op":"add","path":"/foo/1","value":"qux"}]`)
	f.Add(`{"foo":{"bar":"baz"}}`, `[{"op":"move","from":"/foo/bar","path":"/x"}]`)
	f.Add(`{"a":[1]}`, `[{"op":"copy","from":"/a","path":"/a/-"},{"op":"test","path":"/a/0","value":1}]`)
	f.Add(`{"/":9,"~1":10}`, `[{"op":"remove","path":"/~01"},{"op":"replace","path":"","value":0}]`)
	f.Fuzz(func(t *testing.T, doc, patch string) {
		out, err := JSONPatch([]byte(doc), []byte(patch))
		if err != nil {
			if !errors.Is(err, ErrInvalidPatch) {
				t.Fatalf("error does not wrap ErrInvalidPatch: %v", err)
			}
			if out != nil {
				t.Fatal("result returned with an error")
			}
			return
		}
		if _, err := decode("out", out); err != nil {
			t.Fatalf("result is not JSON: %s", out)
		}
	})
}

func FuzzStrategicMergePatch(f *testing.F) {
	f.Add(basePod, `{"spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"web"}],"containers":[{"name":"web","image":"x"}]}}`)
	f.Add(basePod, `{"spec":{"containers":[{"$patch":"replace"},{"name":"a"}]},"metadata":{"labels":{"app":null}}}`)
	f.Add(basePod, `{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"],"finalizers":["z"]}}`)
	f.Add(basePod, `{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"},"volumes":[{"name":"data","$patch":"delete"}]}}`)
	f.Add(`{}`, `{"spec":{"containers":[{"name":"a","ports":[{"containerPort":1,"$patch":"delete"}]}]}}`)
	f.Fuzz(func(t *testing.T, doc, patch string) {
		out, err := StrategicMergePatch([]byte(doc), []byte(patch), tSchema)
		if err != nil {
			if !errors.Is(err, ErrInvalidPatch) {
				t.Fatalf("error does not wrap ErrInvalidPatch: %v", err)
			}
			return
		}
		if _, err := decode("out", out); err != nil {
			t.Fatalf("result is not JSON: %s", out)
		}
	})
}

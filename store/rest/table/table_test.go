package table

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/setpoint-dev/setpoint/store"
)

type thing struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Size             int64 `json:"size"`
}

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func things() []*thing {
	return []*thing{
		{TypeMeta: store.TypeMeta{APIVersion: "v1", Kind: "Thing"}, ObjectMeta: store.ObjectMeta{Name: "a", Namespace: "ns", ResourceVersion: "7", CreationTimestamp: store.NewTime(now.Add(-90 * time.Second))}, Size: 3},
		{ObjectMeta: store.ObjectMeta{Name: "b"}, Size: 5},
	}
}

func builder(t *testing.T) *Builder[*thing] {
	b, err := NewBuilder(NameColumn[*thing](),
		Column[*thing]{Definition: ColumnDefinition{Name: "Size", Type: "integer"}, Cell: func(x *thing, _ time.Time) any { return x.Size }},
		AgeColumn[*thing](),
		Column[*thing]{Definition: ColumnDefinition{Name: "Wide", Type: "string", Priority: 1}, Cell: func(x *thing, _ time.Time) any { return "w-" + x.Name }},
	)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuildCellsAndMetadataRows(t *testing.T) {
	tab, err := builder(t).Build(things(), Options{Now: now, ResourceVersion: "42"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(tab)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"42"},` +
		`"columnDefinitions":[{"name":"Name","type":"string","format":"name","description":"Name must be unique within a namespace.","priority":0},` +
		`{"name":"Size","type":"integer","format":"","description":"","priority":0},` +
		`{"name":"Age","type":"string","format":"","description":"Time since the object was created (creationTimestamp).","priority":0},` +
		`{"name":"Wide","type":"string","format":"","description":"","priority":1}],` +
		`"rows":[{"cells":["a",3,"90s","w-a"],"object":{"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata","metadata":{"name":"a","namespace":"ns","resourceVersion":"7","creationTimestamp":"2025-03-01T11:58:30Z"}}},` +
		`{"cells":["b",5,"\u003cunknown\u003e","w-b"],"object":{"apiVersion":"meta.k8s.io/v1","kind":"PartialObjectMetadata","metadata":{"name":"b"}}}]}`
	var g, w any
	json.Unmarshal(b, &g)
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("got  %s\nwant %s", gb, wb)
	}
}

func TestBuildIncludeObject(t *testing.T) {
	b := builder(t)
	full, err := b.Build(things()[:1], Options{Now: now, Include: IncludeObjectFull})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(full.Rows[0].Object), `"size":3`) || !strings.Contains(string(full.Rows[0].Object), `"kind":"Thing"`) {
		t.Fatalf("full object missing: %s", full.Rows[0].Object)
	}
	none, err := b.Build(things()[:1], Options{Now: now, Include: IncludeNone})
	if err != nil {
		t.Fatal(err)
	}
	if none.Rows[0].Object != nil {
		t.Fatalf("object present with None: %s", none.Rows[0].Object)
	}
	if _, err := b.Build(things(), Options{Include: "Everything"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad include: err = %v", err)
	}
	if _, err := b.Build([]*thing{nil}, Options{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nil object: err = %v", err)
	}
}

func TestEmptyTableHasEmptyRows(t *testing.T) {
	tab, err := builder(t).Build(nil, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(tab)
	if !strings.Contains(string(b), `"rows":[]`) {
		t.Fatalf("rows must be [] not null: %s", b)
	}
}

func TestNewBuilderRejectsBadColumns(t *testing.T) {
	cell := func(*thing, time.Time) any { return "" }
	cases := map[string][]Column[*thing]{
		"no columns":   nil,
		"empty name":   {{Definition: ColumnDefinition{Type: "string"}, Cell: cell}},
		"duplicate":    {NameColumn[*thing](), NameColumn[*thing]()},
		"no cell":      {{Definition: ColumnDefinition{Name: "X", Type: "string"}}},
		"bad type":     {{Definition: ColumnDefinition{Name: "X", Type: "blob"}, Cell: cell}},
		"neg priority": {{Definition: ColumnDefinition{Name: "X", Type: "string", Priority: -1}, Cell: cell}},
	}
	for name, cols := range cases {
		if _, err := NewBuilder(cols...); !errors.Is(err, ErrInvalid) || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := ParseIncludeObject(""); err != nil {
		t.Error(err)
	}
}

func TestRowConditions(t *testing.T) {
	b := builder(t).WithRowConditions(func(x *thing) []RowCondition {
		if x.Size > 4 {
			return []RowCondition{{Type: "Completed", Status: "True"}}
		}
		return nil
	})
	tab, err := b.Build(things(), Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows[0].Conditions) != 0 || len(tab.Rows[1].Conditions) != 1 {
		t.Fatalf("conditions: %+v", tab.Rows)
	}
}

func TestHumanDuration(t *testing.T) {
	cases := map[time.Duration]string{
		-2 * time.Second:                     "<invalid>",
		-1 * time.Second:                     "0s",
		-500 * time.Millisecond:              "0s",
		0:                                    "0s",
		59 * time.Second:                     "59s",
		119 * time.Second:                    "119s",
		2 * time.Minute:                      "2m",
		5*time.Minute + 30*time.Second:       "5m30s",
		10 * time.Minute:                     "10m",
		179 * time.Minute:                    "179m",
		3 * time.Hour:                        "3h",
		3*time.Hour + 20*time.Minute:         "3h20m",
		8 * time.Hour:                        "8h",
		47 * time.Hour:                       "47h",
		48 * time.Hour:                       "2d",
		4*24*time.Hour + 5*time.Hour:         "4d5h",
		8 * 24 * time.Hour:                   "8d",
		400 * 24 * time.Hour:                 "400d",
		2*365*24*time.Hour + 40*24*time.Hour: "2y40d",
		3 * 365 * 24 * time.Hour:             "3y",
		9 * 365 * 24 * time.Hour:             "9y",
	}
	for d, want := range cases {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

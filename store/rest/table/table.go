package table

import (
	"encoding/json"

	"fmt"
	"reflect"
	"time"

	"github.com/setpoint-dev/setpoint/store"
)

// ErrInvalid is wrapped by the errors of this package; it also wraps
// store.ErrInvalid.
var ErrInvalid = fmt.Errorf("%w: table", store.ErrInvalid)

// APIVersion and Kind of a Table on the wire.
const (
	APIVersion = "meta.k8s.io/v1"
	Kind       = "Table"
)

// Table is the server-side rendering of objects as rows of cells that
// "kubectl get" prints (meta.k8s.io/v1 Table).
type Table struct {
	store.TypeMeta `json:",inline"`
	// Metadata carries the list's resourceVersion and continue token.
	Metadata ListMeta `json:"metadata"`
	// ColumnDefinitions describe the cells of every row, in order.
	ColumnDefinitions []ColumnDefinition `json:"columnDefinitions"`
	// Rows hold one object each.
	Rows []Row `json:"rows"`
}

// ListMeta is the table's list metadata.
type ListMeta struct {
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Continue        string `json:"continue,omitempty"`
}

// ColumnDefinition describes one column.
type ColumnDefinition struct {
	// Name is the header, e.g. "Name" or "Restarts" (kubectl upper-cases it).
	Name string `json:"name"`
	// Type is the cells' JSON type: string, integer, number or boolean.
	Type string `json:"type"`
	// Format refines Type; "name" marks the object-name column.
	Format string `json:"format"`
	// Description explains the column.
	Description string `json:"description"`
	// Priority 0 columns are always printed; higher ones only with -o wide.
	Priority int32 `json:"priority"`
}

// Row is one object's cells.
type Row struct {
	// Cells hold one value per column: string, int64, float64 or bool.
	Cells []any `json:"cells"`
	// Conditions describe the row, e.g. a Completed pod.
	Conditions []RowCondition `json:"conditions,omitempty"`
	// Object is the object itself, its metadata only, or absent, as the
	// request's includeObject asked.
	Object json.RawMessage `json:"object,omitempty"`
}

// RowCondition is a condition of a row.
type RowCondition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// IncludeObject says what each row's Object holds (the includeObject query
// parameter).
type IncludeObject string

// The includeObject values.
const (
	// IncludeMetadata (the default): a PartialObjectMetadata with the
	// object's metadata.
	IncludeMetadata IncludeObject = "Metadata"
	// IncludeObjectFull: the whole object.
	IncludeObjectFull IncludeObject = "Object"
	// IncludeNone: no object.
	IncludeNone IncludeObject = "None"
)

// ParseIncludeObject checks an includeObject value ("" means Metadata).
func ParseIncludeObject(s string) (IncludeObject, error) {
	switch IncludeObject(s) {
	case "":
		return IncludeMetadata, nil
	case IncludeMetadata, IncludeObjectFull, IncludeNone:
		return IncludeObject(s), nil
	}
	return "", fmt.Errorf("%w: includeObject %q: must be None, Metadata or Object", ErrInvalid, s)
}

// Column is one column of a typed table: its definition and the function
// that computes a cell from an object at time now.
type Column[T store.Object] struct {
	Definition ColumnDefinition
	Cell       func(obj T, now time.Time) any
}

// Builder renders objects of type T as Tables. It is immutable and safe for
// concurrent use.
type Builder[T store.Object] struct {
	columns    []Column[T]
	conditions func(T) []RowCondition
}

// Options control one rendering.
type Options struct {
	// Now is the time ages are computed against; zero means time.Now().
	Now time.Time
	// Include says what each row's Object holds; "" means IncludeMetadata.
	Include IncludeObject
	// ResourceVersion and Continue go into the table's metadata.
	ResourceVersion, Continue string
}

// NewBuilder returns a builder for the given columns. It fails if a column
// has no name, no cell function or an unknown type, or if names repeat.
func NewBuilder[T store.Object](columns ...Column[T]) (*Builder[T], error) {
	if len(columns) == 0 {
		return nil, fmt.Errorf("%w: no columns", ErrInvalid)
	}
	seen := map[string]bool{}
	for i, c := range columns {
		d := c.Definition
		switch {
		case d.Name == "":
			return nil, fmt.Errorf("%w: column %d: empty name", ErrInvalid, i)
		case seen[d.Name]:
			return nil, fmt.Errorf("%w: column %d: duplicate name %q", ErrInvalid, i, d.Name)
		case c.Cell == nil:
			return nil, fmt.Errorf("%w: column %q: no cell function", ErrInvalid, d.Name)
		case d.Priority < 0:
			return nil, fmt.Errorf("%w: column %q: negative priority", ErrInvalid, d.Name)
		}
		switch d.Type {
		case "string", "integer", "number", "boolean", "date":
		default:
			return nil, fmt.Errorf("%w: column %q: unknown type %q", ErrInvalid, d.Name, d.Type)
		}
		seen[d.Name] = true
	}
	return &Builder[T]{columns: append([]Column[T](nil), columns...)}, nil
}

// MustBuilder is NewBuilder for package-level tables; it panics on error.
func MustBuilder[T store.Object](columns ...Column[T]) *Builder[T] {
	b, err := NewBuilder(columns...)
	if err != nil {
		panic(err)
	}
	return b
}

// WithRowConditions returns a copy of b that adds conditions to each row.
func (b *Builder[T]) WithRowConditions(fn func(T) []RowCondition) *Builder[T] {
	c := *b
	c.conditions = fn
	return &c
}

// Columns returns the column definitions.
func (b *Builder[T]) Columns() []ColumnDefinition {
	defs := make([]ColumnDefinition, len(b.columns))
	for i, c := range b.columns {
		defs[i] = c.Definition
	}
	return defs
}

// Build renders objs as a Table.
func (b *Builder[T]) Build(objs []T, opts Options) (*Table, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	include := opts.Include
	if include == "" {
		include = IncludeMetadata
	}
	if _, err := ParseIncludeObject(string(include)); err != nil {
		return nil, err
	}
	t := &Table{
		TypeMeta:          store.TypeMeta{APIVersion: APIVersion, Kind: Kind},
		Metadata:          ListMeta{ResourceVersion: opts.ResourceVersion, Continue: opts.Continue},
		ColumnDefinitions: b.Columns(),
		Rows:              make([]Row, 0, len(objs)),
	}
	for i, obj := range objs {
		if isNil(obj) {
			return nil, fmt.Errorf("%w: object %d is nil", ErrInvalid, i)
		}
		row := Row{Cells: make([]any, len(b.columns))}
		for j, c := range b.columns {
			row.Cells[j] = c.Cell(obj, now)
		}
		if b.conditions != nil {
			row.Conditions = b.conditions(obj)
		}
		var err error
		switch include {
		case IncludeObjectFull:
			row.Object, err = json.Marshal(obj)
		case IncludeMetadata:
			row.Object, err = json.Marshal(PartialObjectMetadata{
				TypeMeta:   store.TypeMeta{APIVersion: APIVersion, Kind: "PartialObjectMetadata"},
				ObjectMeta: *obj.GetObjectMeta(),
			})
		}
		if err != nil {
			return nil, fmt.Errorf("table: encoding row %d: %w", i, err)
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func isNil(obj any) bool {
	if obj == nil {
		return true
	}
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// PartialObjectMetadata is an object's metadata alone, as rows carry it.
type PartialObjectMetadata struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
}

// NameColumn is the standard "Name" column.
func NameColumn[T store.Object]() Column[T] {
	return Column[T]{
		Definition: ColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: "Name must be unique within a namespace."},
		Cell:       func(obj T, _ time.Time) any { return obj.GetObjectMeta().Name },
	}
}

// AgeColumn is the standard "Age" column: time since creation.
func AgeColumn[T store.Object]() Column[T] {
	return Column[T]{
		Definition: ColumnDefinition{Name: "Age", Type: "string", Description: "Time since the object was created (creationTimestamp)."},
		Cell:       func(obj T, now time.Time) any { return Age(obj.GetObjectMeta().CreationTimestamp, now) },
	}
}

// Age formats the time since t as kubectl does ("<unknown>" for zero).
func Age(t store.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return HumanDuration(now.Sub(t.Time))
}

package table_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/store/rest/table"
)

type Widget struct {
	store.TypeMeta   `json:",inline"`
	store.ObjectMeta `json:"metadata,omitempty"`
	Color            string `json:"color"`
}

func Example() {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	b := table.MustBuilder(
		table.NameColumn[*Widget](),
		table.Column[*Widget]{
			Definition: table.ColumnDefinition{Name: "Color", Type: "string"},
			Cell:       func(w *Widget, _ time.Time) any { return w.Color },
		},
		table.AgeColumn[*Widget](),
	)
	w := &Widget{ObjectMeta: store.ObjectMeta{Name: "w1", CreationTimestamp: store.NewTime(now.Add(-5 * time.Minute))}, Color: "red"}
	t, err := b.Build([]*Widget{w}, table.Options{Now: now, Include: table.IncludeNone})
	if err != nil {
		panic(err)
	}
	header := ""
	for _, c := range t.ColumnDefinitions {
		header += fmt.Sprintf("%-6s", c.Name)
	}
	fmt.Println(strings.TrimSpace(header))
	for _, r := range t.Rows {
		line := ""
		for _, c := range r.Cells {
			line += fmt.Sprintf("%-6v", c)
		}
		fmt.Println(strings.TrimSpace(line))
	}
	// Output:
	// Name  Color Age
	// w1    red   5m
}

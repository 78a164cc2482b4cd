package fieldmanager

import (
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/structured-merge-diff/v6/merge"
)

// Conflict is one field an apply would change that another manager owns.
type Conflict struct {
	// Manager is the owning manager's name.
	Manager string
	// Operation is the owner's operation (Apply or Update).
	Operation string
	// APIVersion is the version an Update owner wrote with.
	APIVersion string
	// Subresource is the subresource the owner wrote through, if any.
	Subresource string
	// Field is the field's path, e.g. .spec.replicas or
	// .spec.containers[name="web"].image.
	Field string
}

// Owner describes the owner as Kubernetes' conflict messages do:
// "kubectl" for an applier, "kube-controller-manager" using apps/v1 for
// an updater, with ` with subresource "status"` when it wrote through one.
func (c Conflict) Owner() string {
	s := fmt.Sprintf("%q", c.Manager)
	if c.Subresource != "" {
		s += fmt.Sprintf(" with subresource %q", c.Subresource)
	}
	if c.Operation == OperationUpdate {
		s += " using " + c.APIVersion
	}
	return s
}

// ConflictError is Apply's error when the configuration would change
// fields other managers own; an apiserver answers it with 409.
type ConflictError struct {
	// Conflicts are sorted by manager and field.
	Conflicts []Conflict
}

func newConflictError(cs merge.Conflicts) *ConflictError {
	e := &ConflictError{}
	for _, c := range cs {
		id, err := parseManagerID(c.Manager)
		if err != nil {
			id = managerID{Manager: c.Manager}
		}
		e.Conflicts = append(e.Conflicts, Conflict{Manager: id.Manager, Operation: id.Operation,
			APIVersion: id.APIVersion, Subresource: id.Subresource, Field: c.Path.String()})
	}
	sort.Slice(e.Conflicts, func(i, j int) bool {
		a, b := e.Conflicts[i], e.Conflicts[j]
		if a.Owner() != b.Owner() {
			return a.Owner() < b.Owner()
		}
		return a.Field < b.Field
	})
	return e
}

// Error is Kubernetes' message: "Apply failed with 1 conflict: conflict
// with "m": .spec.replicas", or for several, one "conflicts with <owner>:"
// line per manager followed by "- <field>" lines.
func (e *ConflictError) Error() string {
	if len(e.Conflicts) == 1 {
		c := e.Conflicts[0]
		return fmt.Sprintf("Apply failed with 1 conflict: conflict with %s: %s", c.Owner(), c.Field)
	}
	var lines []string
	last := ""
	for _, c := range e.Conflicts {
		if o := c.Owner(); o != last {
			lines = append(lines, fmt.Sprintf("conflicts with %s:", o))
			last = o
		}
		lines = append(lines, "- "+c.Field)
	}
	return fmt.Sprintf("Apply failed with %d conflicts: %s", len(e.Conflicts), strings.Join(lines, "\n"))
}

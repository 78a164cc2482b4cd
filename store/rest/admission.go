package rest

import (
	"context"
	"fmt"

	"github.com/setpoint-dev/setpoint/store"
)

// Attributes describe a write for admission: what is being done to which
// object. Object is the object about to be written (nil for delete);
// OldObject the stored one (nil for create and delete). Admission must not
// modify OldObject; only a MutatingAdmission may modify Object.
type Attributes struct {
	// Verb is create, update, patch or delete (deletecollection deletes
	// one object at a time, each with verb delete).
	Verb        string
	Resource    store.Resource
	Namespace   string
	Name        string
	Subresource string
	Object      store.Object
	OldObject   store.Object
}

// AdmissionPlugin is one step of an admission chain (Config.Admission). A
// plugin implements MutatingAdmission, ValidatingAdmission or both; it owns
// whatever state it needs (caches, locks) and must be safe for concurrent
// use.
type AdmissionPlugin interface {
	// Name names the plugin in errors and logs, e.g. "ResourceQuota".
	Name() string
}

// MutatingAdmission may change the objects of creates and updates.
type MutatingAdmission interface {
	AdmissionPlugin
	// Admit runs after preparation and defaulting and before validation,
	// for create, update and patch; it may modify a.Object. An error
	// rejects the request and nothing is written.
	Admit(ctx context.Context, a Attributes) error
}

// ValidatingAdmission decides on writes after validation.
type ValidatingAdmission interface {
	AdmissionPlugin
	// Validate runs after the strategy's validation, for create, update,
	// patch and delete, and must not modify a.Object. To allow the write
	// it calls write and returns write's error unchanged; it may call
	// write again after a call that failed (to retry a conflict on
	// something it read, as a quota plugin re-counting usage does), but
	// never after one that succeeded. To refuse it returns an error
	// without calling write, and nothing is written. Whatever it holds around write (a lock, say) is held
	// across the store write and the rest of the chain.
	//
	// An error rejects the request: a *StatusError chooses the code, any
	// other error maps through ErrorStatus (errors wrapping
	// store.ErrInvalid give 422).
	Validate(ctx context.Context, a Attributes, write func(context.Context) error) error
}

// admission is a chain split into its two phases.
type admission struct {
	mutating   []MutatingAdmission
	validating []ValidatingAdmission
}

func newAdmission(plugins []AdmissionPlugin) admission {
	var a admission
	for _, p := range plugins {
		if m, ok := p.(MutatingAdmission); ok {
			a.mutating = append(a.mutating, m)
		}
		if v, ok := p.(ValidatingAdmission); ok {
			a.validating = append(a.validating, v)
		}
	}
	return a
}

// admit runs every MutatingAdmission in order.
func (a admission) admit(ctx context.Context, attrs Attributes) error {
	for _, m := range a.mutating {
		if err := m.Admit(ctx, attrs); err != nil {
			return err
		}
	}
	return nil
}

// validate runs the ValidatingAdmission chain around write: the first
// plugin's write runs the second plugin, and so on; the last one's runs
// write itself. A plugin that returns nil without calling write is an
// internal error naming it (nothing was written), and so is a call to write
// after one that succeeded.
func (a admission) validate(ctx context.Context, attrs Attributes, write func(context.Context) error) error {
	return a.validateFrom(ctx, 0, attrs, write)
}

func (a admission) validateFrom(ctx context.Context, i int, attrs Attributes, write func(context.Context) error) error {
	if i == len(a.validating) {
		return write(ctx)
	}
	p := a.validating[i]
	called, written := false, false
	err := p.Validate(ctx, attrs, func(ctx context.Context) error {
		if written {
			return fmt.Errorf("rest: admission plugin %s called write again after it succeeded", p.Name())
		}
		called = true
		err := a.validateFrom(ctx, i+1, attrs, write)
		written = err == nil
		return err
	})
	if err == nil && !called {
		return fmt.Errorf("rest: admission plugin %s allowed the %s of %s %q but did not write it", p.Name(), attrs.Verb, attrs.Resource.Name, attrs.Name)
	}
	return err
}

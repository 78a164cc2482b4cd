package offers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	offersapi "github.com/setpoint-dev/setpoint/examples/api/offers"
)

// Registry is where frameworks register and leave.
type Registry interface {
	Register(f *offersapi.Framework) error
	Unregister(framework string) ([]offersapi.Offer, error)
}

// Offerer is where a framework reads and answers its offers, and ends its
// tasks' allocations.
type Offerer interface {
	// Changed is closed the next time the framework's offers may have
	// changed.
	Changed() <-chan struct{}
	Pending(framework string) []offersapi.Offer
	Accept(framework, offerID string, tasks []api.ResourceList) error
	Decline(framework, offerID string, refuse time.Duration) error
	Release(framework, node string, res api.ResourceList) error
}

// Master is the first level as a framework sees it. *Allocator implements
// it in process; a client of the apiserver will implement it over the
// network.
type Master interface {
	Registry
	Offerer
}

var _ Master = (*Allocator)(nil)

// Task is one unit of a framework's work, launched on an accepted offer.
type Task struct {
	// Name identifies the task within its framework.
	Name string
	// Resources is what the task holds while it runs.
	Resources api.ResourceList
}

// TaskState is where a task stands.
type TaskState string

// Task states, as Mesos names the common ones.
const (
	TaskStaging  TaskState = "Staging"
	TaskRunning  TaskState = "Running"
	TaskFinished TaskState = "Finished"
	TaskFailed   TaskState = "Failed"
	// TaskLost: the task's pod was deleted before it ended (the cluster
	// driver's only).
	TaskLost TaskState = "Lost"
)

// terminal reports whether s ends the task.
func (s TaskState) terminal() bool { return s.Terminal() }

// Terminal reports whether s ends the task: Finished, Failed or Lost.
func (s TaskState) Terminal() bool { return s == TaskFinished || s == TaskFailed || s == TaskLost }

// TaskStatus is an update of one task's state.
type TaskStatus struct {
	Task    string
	Node    string
	State   TaskState
	Message string
}

// Launcher starts tasks on a node and reports their states through report
// (which it may call from any goroutine until the task is terminal). In
// the cluster it creates Pods bound to the node; in process it may run a
// function.
type Launcher interface {
	Launch(ctx context.Context, node string, task Task, report func(TaskState, string)) error
}

// LauncherFunc adapts a function to Launcher.
type LauncherFunc func(ctx context.Context, node string, task Task, report func(TaskState, string)) error

// Launch calls f.
func (f LauncherFunc) Launch(ctx context.Context, node string, task Task, report func(TaskState, string)) error {
	return f(ctx, node, task, report)
}

// ErrDriverStopped is why a Driver's channels close when its Run ended
// because its context did.
var ErrDriverStopped = errors.New("driver stopped")

// Driver is the second level's side of two-level scheduling: it registers
// a framework with a Master, delivers its offers on a channel, accepts
// (launching tasks through a Launcher) or declines them, and delivers task
// status updates. A terminal status releases the task's resources.
type Driver struct {
	master   Master
	fw       *offersapi.Framework
	launcher Launcher
	offers   chan offersapi.Offer
	statuses chan TaskStatus
	ctx      context.Context
	ready    chan struct{}

	mu   sync.Mutex
	seen map[string]bool
	err  error
}

// NewDriver returns a driver for framework f (registered when Run starts)
// on master, launching through launcher.
func NewDriver(master Master, f *offersapi.Framework, launcher Launcher) (*Driver, error) {
	if master == nil || launcher == nil {
		return nil, fmt.Errorf("driver: master and launcher are required: %w", ErrInvalid)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("driver: %w: %w", err, ErrInvalid)
	}
	return &Driver{
		master: master, fw: f.DeepCopy(), launcher: launcher,
		offers: make(chan offersapi.Offer), statuses: make(chan TaskStatus, 64),
		ready: make(chan struct{}), seen: map[string]bool{},
	}, nil
}

// Offers delivers each offer once, in the order made; it is closed when
// Run returns (Err says why).
func (d *Driver) Offers() <-chan offersapi.Offer { return d.offers }

// Statuses delivers task status updates (Staging, then what the Launcher
// reports); it is never closed: updates stop when Run's context ends.
func (d *Driver) Statuses() <-chan TaskStatus { return d.statuses }

// Ready is closed once Run has registered the framework.
func (d *Driver) Ready() <-chan struct{} { return d.ready }

// Err is why Run returned, nil while it runs.
func (d *Driver) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Run registers the framework and delivers its offers until ctx ends, then
// unregisters it (its running tasks keep running) and closes the
// channels. It returns ErrDriverStopped wrapping ctx's cause, or the
// registration's error.
func (d *Driver) Run(ctx context.Context) (err error) {
	defer func() {
		d.mu.Lock()
		d.err = err
		d.mu.Unlock()
		close(d.offers)
	}()
	if err := d.master.Register(d.fw); err != nil {
		return fmt.Errorf("driver %s: register: %w", d.fw.Name, err)
	}
	d.ctx = ctx
	close(d.ready)
	for {
		changed := d.master.Changed()
		for _, o := range d.master.Pending(d.fw.Name) {
			d.mu.Lock()
			dup := d.seen[o.Name]
			d.seen[o.Name] = true
			d.mu.Unlock()
			if dup {
				continue
			}
			select {
			case d.offers <- o:
			case <-ctx.Done():
				return d.stop(ctx)
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return d.stop(ctx)
		}
	}
}

func (d *Driver) stop(ctx context.Context) error {
	_, err := d.master.Unregister(d.fw.Name)
	return errors.Join(fmt.Errorf("driver %s: %w: %w", d.fw.Name, ErrDriverStopped, context.Cause(ctx)), err)
}

// Accept accepts offer o with tasks and launches each through the
// Launcher; statuses follow on Statuses. The accept is rejected as
// Allocator.Accept says, and then nothing is launched.
func (d *Driver) Accept(o offersapi.Offer, tasks []Task) error {
	<-d.ready
	res := make([]api.ResourceList, len(tasks))
	for i, t := range tasks {
		res[i] = t.Resources
	}
	if err := d.master.Accept(d.fw.Name, o.Name, res); err != nil {
		return err
	}
	var errs []error
	for _, t := range tasks {
		report := d.reporter(o.Spec.Node, t)
		report(TaskStaging, "")
		if err := d.launcher.Launch(d.ctx, o.Spec.Node, t, report); err != nil {
			report(TaskFailed, err.Error())
			errs = append(errs, fmt.Errorf("task %s: %w", t.Name, err))
		}
	}
	return errors.Join(errs...)
}

// reporter returns the status callback of task t on node: it forwards
// updates and releases the task's resources once, at its terminal state.
func (d *Driver) reporter(node string, t Task) func(TaskState, string) {
	var once sync.Once
	return func(s TaskState, msg string) {
		if s.terminal() {
			done := false
			once.Do(func() { done = true })
			if !done {
				return
			}
			_ = d.master.Release(d.fw.Name, node, t.Resources)
		}
		select {
		case d.statuses <- TaskStatus{Task: t.Name, Node: node, State: s, Message: msg}:
		case <-d.ctx.Done():
		}
	}
}

// Decline declines offer o; the framework is not offered its node again
// before refuse.
func (d *Driver) Decline(o offersapi.Offer, refuse time.Duration) error {
	return d.master.Decline(d.fw.Name, o.Name, refuse)
}

package batch

// The labels a Job's generated selector and pods carry, as Kubernetes
// names them (the legacy spellings too).
const (
	// ControllerUIDLabel carries the job's UID; the generated selector
	// matches it.
	ControllerUIDLabel = "batch.kubernetes.io/controller-uid"
	// JobNameLabel carries the job's name.
	JobNameLabel = "batch.kubernetes.io/job-name"
	// LegacyControllerUIDLabel and LegacyJobNameLabel are the older
	// spellings, still set.
	LegacyControllerUIDLabel = "controller-uid"
	LegacyJobNameLabel       = "job-name"
	// JobCompletionIndexAnnotation holds an indexed job's pod's index.
	JobCompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index"
)

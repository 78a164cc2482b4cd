package containerd

// Internal names the external tests use.
const (
	LabelExitCode = labelExitCode
	LabelFinished = labelFinished
)

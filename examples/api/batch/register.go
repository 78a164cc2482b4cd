package batch

import "github.com/setpoint-dev/setpoint/store"

// The batch/v1 resources the example apiserver serves; see api.PodResource.
var (
	// JobResource: jobs, batch/v1.
	JobResource = store.Resource{Name: "jobs", APIVersion: "batch/v1", Kind: "Job", Namespaced: true}
	// CronJobResource: cronjobs, batch/v1.
	CronJobResource = store.Resource{Name: "cronjobs", APIVersion: "batch/v1", Kind: "CronJob", Namespaced: true}
)

// Package cronjob is the CronJob controller: it creates each batch/v1
// CronJob's Jobs on its schedule, as Kubernetes' cronjob controller
// (pkg/controller/cronjob, the "v2" controller) does.
//
// What it guarantees, and the Kubernetes rule behind each point:
//
//   - Schedules are standard cron lines and the descriptors @yearly,
//     @monthly, @weekly, @daily, @hourly and @every <duration>, parsed by
//     github.com/robfig/cron/v3 (cron.ParseStandard), as Kubernetes does;
//     spec.timeZone (an IANA name) sets the zone, else Config.Location.
//     All times come from the injected clock.
//   - At each sync the latest schedule time after the last one started
//     (status.lastScheduleTime, or the jobs' scheduled-time annotations
//     when the cache is behind, or the creation time) and not after now is
//     the one to run; earlier missed ones are skipped. With
//     startingDeadlineSeconds, times older than that are not considered
//     and a time found too late is reported (MissSchedule). More than 100
//     missed times are reported (TooManyMissedTimes) and the latest still
//     runs.
//   - The job for time t is named "<cronjob>-<t in minutes since the
//     epoch>" and annotated batch.kubernetes.io/cronjob-scheduled-timestamp,
//     so a sync that repeats finds the job already there (AlreadyExists)
//     instead of starting it twice.
//   - concurrencyPolicy: Allow starts regardless; Forbid starts nothing
//     while a job is active (JobAlreadyActive) and runs the pending time
//     once it ended; Replace deletes the active jobs first.
//   - suspend starts nothing. status.active lists the unfinished jobs;
//     lastScheduleTime and lastSuccessfulTime are kept; beyond
//     successfulJobsHistoryLimit and failedJobsHistoryLimit the oldest
//     finished jobs are deleted (background propagation).
//   - Every write uses the reconcile context, so under a controller
//     manager a deposed leader's writes fail with store.ErrFenced.
//
// The apiserver refuses a schedule that does not parse, a TZ= prefix and
// an unknown timeZone (422 naming the field); a stored one that does not
// parse only produces an UnparseableSchedule event.
//
// The controller reads cron jobs and jobs through the client's shared
// informers: run the informer factory (cs.Informers().Run) next to Run.
package cronjob

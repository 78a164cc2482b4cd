// Package job is the Job controller: it runs the pods of each batch/v1 Job
// until enough of them succeed, or the job fails, as Kubernetes' job
// controller (pkg/controller/job) does, and deletes finished jobs after
// ttlSecondsAfterFinished as Kubernetes' ttl-after-finished controller
// does.
//
// What it guarantees, and the Kubernetes rule behind each point:
//
//   - Every pod it creates carries the batch.kubernetes.io/job-tracking
//     finalizer. A pod that ended is first recorded by UID in
//     status.uncountedTerminatedPods (with the index it completed or
//     failed), then its finalizer is removed, then it is moved into
//     status.succeeded or status.failed. A crash between the steps neither
//     loses nor double-counts a pod, and a pod deleted while running counts
//     as failed (finalizer-based tracking).
//   - NonIndexed jobs keep min(parallelism, completions - succeeded) pods
//     running; without completions, the job succeeds once one pod
//     succeeded and no pod runs. Indexed jobs run one pod per index not yet
//     completed, lowest first, with the index in the annotation and label
//     batch.kubernetes.io/job-completion-index, the hostname
//     "<job>-<index>" and the JOB_COMPLETION_INDEX variable;
//     status.completedIndexes lists the done ones ("0-2,5").
//   - Failures: more than backoffLimit failed pods fail the job
//     (BackoffLimitExceeded); with backoffLimitPerIndex an index whose pods
//     failed more than that many times is failed (status.failedIndexes,
//     not retried), and more than maxFailedIndexes fail the job
//     (MaxFailedIndexesExceeded), as does finishing with a failed index
//     (FailedIndexes). activeDeadlineSeconds counts from startTime
//     (DeadlineExceeded). The podFailurePolicy's first matching rule
//     (onExitCodes on containers that exited non-zero, or onPodConditions)
//     decides: FailJob fails the job (PodFailurePolicy), FailIndex fails
//     the index, Ignore does not count the failure, Count counts it.
//   - Conditions: the job first gets FailureTarget or SuccessCriteriaMet,
//     its running pods are deleted, and once none is left (and every pod
//     is counted) it gets Failed or Complete with the same reason;
//     completionTime is set on success. suspend deletes the running pods
//     and sets Suspended; resuming resets startTime.
//   - No double creates: creations and deletions are recorded as
//     expectations before they are sent, creations slow-start
//     (controllerutil.SlowStart), and orphans matching the selector are adopted after a fresh
//     read of the job (ControllerRefManager).
//   - ttlSecondsAfterFinished: a finished job is deleted (foreground, with
//     a UID precondition) once that long has passed since it finished, on
//     the injected clock.
//   - Every write uses the reconcile context, so under a controller manager
//     a deposed leader's writes fail with store.ErrFenced.
//   - Pod-replacement delay: a failed pod (one the pod failure policy
//     does not ignore) is replaced only after an exponential delay, 10 s
//     after the first failure since the last success, doubling with each
//     further one, capped at 6 min, counted from the last failure's end
//     (its containers' finishedAt, else its Ready=False time, else its
//     deletion time), on the injected clock (Config.PodFailureBackoff,
//     Config.MaxPodFailureBackoff; BackoffDelay is the rule). With
//     backoffLimitPerIndex the delay is per index, from the index's
//     failure count. The job is re-synced when the delay is up.
//   - successPolicy (Indexed jobs): the first rule the completed indexes
//     satisfy (all its succeededIndexes, or succeededCount of them, or
//     succeededCount completed indexes in all) sets SuccessCriteriaMet
//     with reason SuccessPolicy ("Matched rules at index N"); the
//     remaining pods are deleted and the job becomes Complete with the
//     same reason. A rule is checked after the failure targets and before
//     the completions count.
//
// Differences from Kubernetes: the replacement delay is computed from
// the job's pods still in the store (Kubernetes keeps an in-memory
// record, lost on restart; here a pod removed by pod garbage collection
// no longer counts); podReplacementPolicy is not read (a terminating pod
// counts as failed and is replaced, the TerminatingOrFailed behaviour).
//
// The controller reads jobs and pods through the client's shared
// informers: run the informer factory (cs.Informers().Run) next to Run.
package job

// Package controllerutil holds the machinery the workload controllers
// share, each piece following the rule of Kubernetes' pkg/controller that
// it is named after:
//
//   - Expectations: creates and deletes made but not yet observed, so a
//     slow cache never causes double creates (UIDTrackingControllerExpectations).
//   - Claimer: adoption and release by selector and controller owner
//     references (ControllerRefManager), with RecheckOwner guarding
//     adoption by a stale owner (RecheckDeletionTimestamp).
//   - PodsToDelete: the ranking of pods to delete first on scale-down
//     (ActivePodsWithRanks).
//   - ComputeHash, NewControllerRevision, SortRevisions, NextRevision,
//     EqualRevision: controller history (ControllerRevisions and the
//     template hash; pkg/controller/history and ComputePodTemplateHash).
//   - SlowStartBatch: batched creation that doubles while it succeeds;
//     SlowStart: the same window without the barrier between batches.
//   - PodFromTemplate and ControllerRef: the pod a controller creates from
//     its template (GetPodFromTemplate), with a controller reference that
//     blocks the owner's foreground deletion.
//   - Recorder: Kubernetes Events, asynchronous and aggregated.
//
// Everything here is safe for concurrent use where it holds state
// (Expectations, Recorder); the rest are pure functions of their inputs.
package controllerutil

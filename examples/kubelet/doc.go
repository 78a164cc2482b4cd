// Package kubelet is the example cluster's node agent: it registers a
// Node, keeps its Lease and status fresh, and runs the pods bound to the
// node (spec.nodeName) on a runtime.Runtime — containerd on real nodes,
// runtime/fake for simulated ones — reporting each pod's status through
// the pods/status subresource.
//
// It follows Kubernetes' kubelet:
//
//   - Pods are watched with the field selector spec.nodeName=<node>; each is
//     synced by one worker at a time (reconcile) on every change of the pod
//     or of an object it uses, when its containers change, when a back-off
//     or deadline ends, and at least every ResyncPeriod (Kubernetes'
//     syncFrequency). Container changes are found as Kubernetes' PLEG finds
//     them: every SyncPeriod (the relist period) the runtime's sandboxes and
//     containers are listed once, and only the pods whose sandboxes or
//     containers appeared, went or changed state are synced.
//
//   - Admission: a pod that names another node, does not fit the node's
//     allocatable cpu, memory or pods, or wants a host port another pod
//     holds fails with reason NodeName, OutOfcpu, OutOfmemory, OutOfpods
//     or NodePorts.
//
//   - A sandbox per pod (it plays the role of Kubernetes' pause container:
//     the network namespace and IP the containers share); a sandbox that
//     dies is replaced by the next attempt, and the containers start again.
//
//   - Init containers run one at a time in order, each to success, before
//     the app containers start together. Exited containers restart as the
//     restartPolicy says, the first at once, then after a back-off of 10 s
//     doubling to 5 min (CrashLoopBackOff), reset when the container ran 10
//     min. Image pulls follow imagePullPolicy (ErrImagePull, then
//     ImagePullBackOff; ErrImageNeverPull).
//
//   - Environment: env values with $(VAR) expansion, envFrom, the downward
//     API (fieldRef, resourceFieldRef) and ConfigMap/Secret keys; a missing
//     reference is CreateContainerConfigError.
//
//   - Status: phase by Kubernetes' rules, conditions PodReadyToStartContainers,
//     Initialized, ContainersReady, Ready (reasons ContainersNotInitialized,
//     ContainersNotReady, PodCompleted) and PodScheduled; container statuses
//     with state, lastState, restartCount, ready, started, image, imageID,
//     containerID; podIP(s), hostIP(s), startTime, qosClass. It is written
//     only when it changed.
//
//   - Deletion: a pod marked for deletion (deletionTimestamp) has its
//     containers stopped with the deletion's grace period (SIGTERM, then the
//     kill), its sandbox removed, and is then deleted for good with grace 0
//     and its UID as precondition. activeDeadlineSeconds fails a pod
//     (DeadlineExceeded) and stops it.
//
//   - Restart safety: a restarted kubelet finds its sandboxes and
//     containers by the pod's namespace, name and UID and adopts them
//     (restart counts are the runtime's attempt numbers); sandboxes of pods
//     the apiserver no longer has are removed.
//
//   - Probes: startup, liveness and readiness probes (exec, httpGet,
//     tcpSocket, grpc) with initialDelaySeconds, periodSeconds, timeoutSeconds,
//     successThreshold, failureThreshold and the probe's
//     terminationGracePeriodSeconds, one prober per running container on
//     the kubelet's clock. httpGet and tcpSocket probes and hooks take a
//     port number or the name of one of the container's ports (an unknown
//     name fails the probe, naming it); httpGet with scheme HTTPS speaks
//     TLS without verifying the server's certificate, as Kubernetes'
//     prober does. The startup probe holds the others off until it
//     succeeds; a failing liveness (or startup) probe kills the container,
//     which then restarts as the restart policy says; readiness sets the
//     container's ready and so the pod's Ready.
//
//   - Events with Kubernetes' reasons: Pulling, Pulled, Created, Started,
//     Killing, BackOff, Unhealthy, Failed, FailedCreatePodSandBox, SandboxChanged,
//     DeadlineExceeded and the admission reasons.
//
//   - The Node: capacity from Config or the machine, allocatable less
//     SystemReserved, addresses, nodeInfo, images, podCIDR, and conditions
//     Ready, MemoryPressure, DiskPressure, PIDPressure measured on the
//     machine (Kubernetes' hard eviction thresholds); written when it
//     changes and at least every NodeStatusReportInterval. The Lease in
//     kube-node-lease is renewed every LeaseRenewInterval.
//
//   - Volumes, set up before the containers start (a failure is a
//     FailedMount event naming the volume and the object, and the
//     containers wait in ContainerCreating): emptyDir on disk (0777, under
//     Config.RootDir/pods/<uid>) or medium Memory (the runtime's tmpfs,
//     sizeLimit); hostPath with its type checked (…OrCreate types create);
//     configMap and secret (items, defaultMode and per-item mode,
//     optional) and downwardAPI, written with Kubernetes' atomic layout —
//     a hidden timestamped directory, the ..data symlink swapped by rename,
//     top-level names as symlinks through it — and rewritten when the
//     source changed; projected (configMap, secret, downwardAPI and
//     serviceAccountToken, the token requested through the TokenRequest
//     API bound to the pod and renewed at 80% of its lifetime, so the
//     default service account mount works); persistentVolumeClaim of a
//     bound local or hostPath PersistentVolume. subPath and readOnly per
//     mount; configMap, secret, downwardAPI and projected volumes are
//     read-only. fsGroup owns emptyDirs and written volumes. The pod's
//     directory goes when the pod does.
//
//   - ConfigMaps and Secrets (for volumes and env) are read through
//     watches, as Kubernetes' watch-based manager does: one list and watch
//     with the field selector metadata.name=<n> per object a pod uses
//     (which the apiserver's Node authorizer allows for exactly the
//     objects of the node's pods), shared by the pods that use it, started
//     by the first and stopped after the last is gone. A change re-syncs
//     those pods at once, so their configMap and secret volumes follow it
//     without waiting for SyncPeriod; a running container's environment
//     does not change, as in Kubernetes.
//
//   - Service environment: KUBERNETES_SERVICE_HOST/PORT always, and with
//     enableServiceLinks the <NAME>_SERVICE_HOST/_PORT and Docker link
//     variables of the namespace's services.
//
//   - DNS and hosts: /etc/resolv.conf per dnsPolicy (ClusterFirst with
//     Config.ClusterDNS and the search path <ns>.svc.<domain>
//     svc.<domain> <domain>, falling back to Default without ClusterDNS or
//     on the host network; Default; None; dnsConfig merged); a
//     Kubernetes-managed /etc/hosts with the pod's
//     <hostname>.<subdomain>.<ns>.svc.<domain> name and hostAliases.
//
//   - securityContext (pod and container, the container's winning):
//     runAsUser, runAsGroup, runAsNonRoot (a root image is
//     CreateContainerConfigError), supplementalGroups and fsGroup,
//     readOnlyRootFilesystem, privileged, capabilities,
//     allowPrivilegeEscalation: false as no_new_privs, and seccompProfile:
//     RuntimeDefault is the runtime's default filter (containerd's
//     default profile), Localhost the JSON profile at localhostProfile
//     under Config.SeccompProfileRoot (a missing or malformed one is
//     CreateContainerConfigError), Unconfined or none no filter.
//
//   - Lifecycle hooks: postStart (exec, httpGet, sleep) right after the
//     start — a failure kills the container (FailedPostStartHook) — and
//     preStop before SIGTERM on deletion, within the grace period. The
//     termination message is the file at terminationMessagePath (4096
//     bytes), or with FallbackToLogsOnError the log's last 80 lines / 2048
//     bytes when the file is empty and the container failed. grpc probes
//     call grpc.health.v1.Health/Check (SERVING passes).
//
//   - Static pods: the manifests in Config.StaticPodPath become pods
//     <name>-<node> bound to the node, annotated kubernetes.io/config.mirror,
//     config.hash and config.source; a changed manifest replaces its pod, a
//     removed one deletes it, a bad one is skipped and logged by name.
//
// Where it differs: a static pod runs through its mirror pod in the
// apiserver (the kubelet creates it, then runs it like any pod bound to the
// node), so it needs the apiserver, where Kubernetes runs static pods
// without one. Network probes and hooks connect to the port on the sandbox's
// loopback (through the runtime's port forwarding), where Kubernetes
// connects to the pod IP, so a server listening only on 127.0.0.1 passes
// here. A Memory emptyDir takes no subPath. containerID
// fields use the scheme "containerd://" whatever the runtime. Sandboxes of
// finished pods are stopped, not kept for garbage collection; a pod's
// older container attempts beyond the previous one are removed when a new
// one starts.
//
// The kubelet's own HTTPS API (package examples/kubelet/server: container
// logs, exec, attach, port-forward, /stats/summary, /metrics/resource,
// /pods, /healthz, /metrics) runs with Run when Config.Serving.Listen is
// set; its port goes into the Node's status.daemonEndpoints, where the
// apiserver finds it to proxy pods/log, pods/exec, pods/attach,
// pods/portforward and nodes/proxy. A Kubelet also exposes Runtime and
// LookupPod (the sandbox and container IDs of a pod it runs).
package kubelet

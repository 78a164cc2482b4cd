package namespace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/store"
)

// apiClient makes the untyped requests the controller needs: discovery,
// deletecollection and lists of any resource, and the namespace's status
// and finalize subresources.
type apiClient struct {
	hc     *http.Client
	server string
}

// resourceRef names a served resource: its API path base and plural name.
type resourceRef struct {
	base     string // "/api/v1" or "/apis/<group>/<version>"
	resource string
}

func (r resourceRef) String() string {
	if g, ok := strings.CutPrefix(r.base, "/apis/"); ok {
		return r.resource + "." + g[:strings.IndexByte(g, '/')]
	}
	return r.resource
}

// statusError is an apiserver's answer to a failed request.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return fmt.Sprintf("%d: %s", e.code, e.msg) }

func (a *apiClient) do(ctx context.Context, method, path string, body any, into any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.server+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var st struct {
			Message string `json:"message"`
		}
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(data, &st) != nil || st.Message == "" {
			st.Message = strings.TrimSpace(string(data))
		}
		return &statusError{code: resp.StatusCode, msg: st.Message}
	}
	if into == nil {
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

// namespacedResources discovers every namespaced resource that can be
// listed and deleted as a collection, in a stable order. It returns what it
// found along with an error for the group-versions it could not read.
func (a *apiClient) namespacedResources(ctx context.Context) ([]resourceRef, error) {
	var bases []string
	var errs []error
	var core api.APIVersions
	if err := a.do(ctx, http.MethodGet, "/api", nil, &core); err != nil {
		errs = append(errs, fmt.Errorf("/api: %w", err))
	}
	for _, v := range core.Versions {
		bases = append(bases, "/api/"+v)
	}
	var groups api.APIGroupList
	if err := a.do(ctx, http.MethodGet, "/apis", nil, &groups); err != nil {
		errs = append(errs, fmt.Errorf("/apis: %w", err))
	}
	for _, g := range groups.Groups {
		if g.PreferredVersion.GroupVersion != "" {
			bases = append(bases, "/apis/"+g.PreferredVersion.GroupVersion)
		}
	}
	var out []resourceRef
	for _, base := range bases {
		var l api.APIResourceList
		if err := a.do(ctx, http.MethodGet, base, nil, &l); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", base, err))
			continue
		}
		for _, r := range l.Resources {
			if strings.Contains(r.Name, "/") || !r.Namespaced || !slices.Contains(r.Verbs, "deletecollection") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			out = append(out, resourceRef{base: base, resource: r.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, errors.Join(errs...)
}

func (a *apiClient) deleteCollection(ctx context.Context, r resourceRef, ns string) error {
	err := a.do(ctx, http.MethodDelete, r.base+"/namespaces/"+url.PathEscape(ns)+"/"+r.resource, nil, nil)
	var se *statusError
	if errors.As(err, &se) && (se.code == http.StatusNotFound || se.code == http.StatusMethodNotAllowed) {
		return nil
	}
	return err
}

// leftovers is what remains in a namespace: objects per resource, and
// objects per finalizer that holds them.
type leftovers struct {
	objects    int
	byResource map[string]int
	byFinal    map[string]int
}

// remaining lists every resource in the namespace (metadata only).
func (a *apiClient) remaining(ctx context.Context, resources []resourceRef, ns string) (leftovers, error) {
	left := leftovers{byResource: map[string]int{}, byFinal: map[string]int{}}
	var errs []error
	for _, r := range resources {
		var l struct {
			Items []struct {
				Metadata struct {
					Finalizers []string `json:"finalizers"`
				} `json:"metadata"`
			} `json:"items"`
		}
		if err := a.do(ctx, http.MethodGet, r.base+"/namespaces/"+url.PathEscape(ns)+"/"+r.resource, nil, &l); err != nil {
			errs = append(errs, fmt.Errorf("listing %s: %w", r, err))
			continue
		}
		if n := len(l.Items); n > 0 {
			left.objects += n
			left.byResource[r.String()] += n
		}
		for _, it := range l.Items {
			for _, f := range it.Metadata.Finalizers {
				left.byFinal[f]++
			}
		}
	}
	return left, errors.Join(errs...)
}

// finalize removes the "kubernetes" finalizer of ns through the finalize
// subresource, at ns's resourceVersion.
func (a *apiClient) finalize(ctx context.Context, ns *api.Namespace) error {
	upd := store.Clone(ns)
	upd.Spec.Finalizers = slices.DeleteFunc(upd.Spec.Finalizers, func(f api.FinalizerName) bool { return f == api.FinalizerKubernetes })
	return a.do(ctx, http.MethodPut, "/api/v1/namespaces/"+url.PathEscape(ns.Name)+"/finalize", upd, nil)
}

func (a *apiClient) updateStatus(ctx context.Context, ns *api.Namespace) error {
	return a.do(ctx, http.MethodPut, "/api/v1/namespaces/"+url.PathEscape(ns.Name)+"/status", ns, nil)
}

// conditions are the namespace's deletion conditions, with Kubernetes'
// types, reasons and messages.
func conditions(discoveryErr error, failures []string, left leftovers) []api.NamespaceCondition {
	cond := func(typ api.NamespaceConditionType, bad bool, badReason, badMsg, okReason, okMsg string) api.NamespaceCondition {
		if bad {
			return api.NamespaceCondition{Type: typ, Status: api.ConditionTrue, Reason: badReason, Message: badMsg}
		}
		return api.NamespaceCondition{Type: typ, Status: api.ConditionFalse, Reason: okReason, Message: okMsg}
	}
	discMsg := ""
	if discoveryErr != nil {
		discMsg = "Discovery failed for some groups: " + discoveryErr.Error()
	}
	var res, fins []string
	for r, n := range left.byResource {
		res = append(res, fmt.Sprintf("%s has %d resource instances", r, n))
	}
	for f, n := range left.byFinal {
		fins = append(fins, fmt.Sprintf("%s in %d resource instances", f, n))
	}
	sort.Strings(res)
	sort.Strings(fins)
	return []api.NamespaceCondition{
		cond(api.NamespaceDeletionDiscoveryFailure, discoveryErr != nil, "DiscoveryFailed", discMsg,
			"ResourcesDiscovered", "All resources successfully discovered"),
		cond(api.NamespaceDeletionContentFailure, len(failures) > 0, "ContentDeletionFailed",
			fmt.Sprintf("Failed to delete all resource types, %d remaining: %s", len(failures), strings.Join(failures, ", ")),
			"ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
		cond(api.NamespaceContentRemaining, left.objects > 0, "SomeResourcesRemain",
			"Some resources are remaining: "+strings.Join(res, ", "), "ContentRemoved", "All content successfully removed"),
		cond(api.NamespaceFinalizersRemaining, len(fins) > 0, "SomeFinalizersRemain",
			"Some content in the namespace has finalizers remaining: "+strings.Join(fins, ", "),
			"ContentHasNoFinalizers", "All content-preserving finalizers finished"),
	}
}

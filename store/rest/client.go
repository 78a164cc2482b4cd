package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// Client is a typed HTTP client of one resource served by a Handler (or a
// Kubernetes apiserver). It implements store.Interface[T], so informers and
// election locks work over HTTP as over etcd: errors wrap the store's
// sentinels (404 ErrNotFound, 409 ErrConflict, ErrAlreadyExists or
// ErrFenced, 410 ErrGone, 400/422 ErrInvalid, 413 ErrTooLarge), and fences
// in the context (store.WithFence) travel in FenceHeader.
//
// ListOptions.Filter and WatchOptions.Filter cannot travel over HTTP; they
// are applied to what the server returns (a watched object that stops
// matching the Filter is then not reported as Deleted). Use label
// selectors, which the server applies, where that matters.
type Client[T store.Object] struct {
	hc     *http.Client
	base   string
	res    store.Resource
	elem   reflect.Type
	hdr    http.Header
	prefix string
	fields string
}

var _ store.Interface[store.Object] = (*Client[store.Object])(nil)

// ClientOption configures NewClient.
type ClientOption func(*clientOptions)

type clientOptions struct {
	header http.Header
	prefix string
	fields string
}

// WithFieldSelector makes every List and Watch of the client send
// fieldSelector=selector, so the server filters (for example
// "spec.nodeName=node-1" for a node agent's pods). The server answers a
// selector it does not support with 400.
func WithFieldSelector(selector string) ClientOption {
	return func(o *clientOptions) { o.fields = selector }
}

// WithKeyPrefix sets the server store's key prefix (default
// store.DefaultKeyPrefix), which Key uses to name objects in fences.
func WithKeyPrefix(prefix string) ClientOption {
	return func(o *clientOptions) { o.prefix = strings.TrimRight(prefix, "/") }
}

// WithBearerToken sends "Authorization: Bearer <token>" on every request.
func WithBearerToken(token string) ClientOption {
	return func(o *clientOptions) { o.header.Set("Authorization", "Bearer "+token) }
}

// NewClient returns a client of resource res at baseURL (for example
// "https://127.0.0.1:6443"), using hc (which carries TLS settings and
// client certificates).
func NewClient[T store.Object](hc *http.Client, baseURL string, res store.Resource, opts ...ClientOption) (*Client[T], error) {
	if hc == nil {
		return nil, fmt.Errorf("%w: rest.NewClient: nil http.Client", store.ErrInvalid)
	}
	if err := res.Validate(); err != nil {
		return nil, fmt.Errorf("rest.NewClient: %w", err)
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: rest.NewClient: base URL %q must be http(s)://host[:port]", store.ErrInvalid, baseURL)
	}
	var zero T
	t := reflect.TypeOf(zero)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: rest.NewClient: object type %T must be a pointer to a struct", store.ErrInvalid, zero)
	}
	o := clientOptions{header: http.Header{}, prefix: store.DefaultKeyPrefix}
	for _, opt := range opts {
		opt(&o)
	}
	return &Client[T]{hc: hc, base: strings.TrimRight(baseURL, "/"), res: res, elem: t.Elem(), hdr: o.header, prefix: o.prefix, fields: o.fields}, nil
}

// Resource returns the client's resource.
func (c *Client[T]) Resource() store.Resource { return c.res }

// Key returns the server-side backend key of an object, as the server's
// store.Store.Key does (given the right WithKeyPrefix): what a fence on the
// object names.
func (c *Client[T]) Key(namespace, name string) string {
	if !c.res.Namespaced || namespace == "" {
		return c.prefix + "/" + c.res.Name + "/" + name
	}
	return c.prefix + "/" + c.res.Name + "/" + namespace + "/" + name
}

// path returns the URL path of a collection (name "") or an object.
func (c *Client[T]) path(namespace, name string) string {
	var b strings.Builder
	b.WriteString(c.base)
	if strings.Contains(c.res.APIVersion, "/") {
		b.WriteString("/apis/")
	} else {
		b.WriteString("/api/")
	}
	b.WriteString(c.res.APIVersion)
	if c.res.Namespaced && namespace != "" {
		b.WriteString("/namespaces/")
		b.WriteString(url.PathEscape(namespace))
	}
	b.WriteString("/")
	b.WriteString(c.res.Name)
	if name != "" {
		b.WriteString("/")
		b.WriteString(url.PathEscape(name))
	}
	return b.String()
}

func (c *Client[T]) newObject() T { return reflect.New(c.elem).Interface().(T) }

// ClientError is an error response. It wraps the store sentinel its code
// and reason map to.
type ClientError struct {
	Status watch.Status
}

// Error implements the error interface.
func (e *ClientError) Error() string {
	return fmt.Sprintf("apiserver: %d %s: %s", e.Status.Code, e.Status.Reason, e.Status.Message)
}

// Unwrap returns the store sentinel the status maps to.
func (e *ClientError) Unwrap() []error {
	switch e.Status.Code {
	case http.StatusNotFound:
		return []error{store.ErrNotFound}
	case http.StatusConflict:
		switch e.Status.Reason {
		case watch.StatusReasonAlreadyExists:
			return []error{store.ErrAlreadyExists}
		case watch.StatusReasonFenced:
			return []error{store.ErrFenced}
		}
		return []error{store.ErrConflict}
	case http.StatusGone:
		return []error{store.ErrGone}
	case http.StatusRequestEntityTooLarge:
		return []error{store.ErrTooLarge, store.ErrInvalid}
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return []error{store.ErrInvalid}
	case http.StatusTooManyRequests:
		return []error{watch.ErrTooSlow}
	}
	return nil
}

func (c *Client[T]) do(ctx context.Context, method, u string, body any, contentType string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%w: encoding %s: %v", store.ErrInvalid, c.res.Kind, err)
		}
		rd = bytes.NewReader(b)
	}
	if method != http.MethodGet && store.DryRunFrom(ctx) {
		// A dry run travels as dryRun=All on every write (for a delete,
		// in the query, which Kubernetes reads when the body has none).
		if strings.Contains(u, "?") {
			u += "&dryRun=All"
		} else {
			u += "?dryRun=All"
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range c.hdr {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	if f := store.FencesFrom(ctx); len(f) > 0 {
		req.Header[FenceHeader] = FormatFences(f)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var st watch.Status
		if err := json.Unmarshal(data, &st); err != nil || st.Kind != "Status" {
			st = *watch.NewStatus(resp.StatusCode, http.StatusText(resp.StatusCode), strings.TrimSpace(string(data)))
		}
		if st.Code == 0 {
			st.Code = int32(resp.StatusCode)
		}
		return nil, fmt.Errorf("%s %s: %w", method, u, &ClientError{Status: st})
	}
	return resp, nil
}

func (c *Client[T]) decodeResponse(resp *http.Response, into any) error {
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		return fmt.Errorf("decoding %s response: %w", c.res.Kind, err)
	}
	return nil
}

func (c *Client[T]) object(ctx context.Context, method, u string, body any, contentType string) (T, error) {
	var zero T
	resp, err := c.do(ctx, method, u, body, contentType)
	if err != nil {
		return zero, err
	}
	obj := c.newObject()
	if err := c.decodeResponse(resp, obj); err != nil {
		return zero, err
	}
	return obj, nil
}

// Get returns an object, or an error wrapping store.ErrNotFound.
func (c *Client[T]) Get(ctx context.Context, namespace, name string) (T, error) {
	return c.object(ctx, http.MethodGet, c.path(namespace, name), nil, "")
}

// Create creates obj in its namespace.
func (c *Client[T]) Create(ctx context.Context, obj T) (T, error) {
	var zero T
	if reflect.ValueOf(obj).IsNil() {
		return zero, fmt.Errorf("%w: nil object", store.ErrInvalid)
	}
	return c.object(ctx, http.MethodPost, c.path(obj.GetObjectMeta().Namespace, ""), obj, "")
}

// Update replaces obj, compare-and-swap on its resourceVersion (none:
// unconditional).
func (c *Client[T]) Update(ctx context.Context, obj T) (T, error) {
	var zero T
	if reflect.ValueOf(obj).IsNil() {
		return zero, fmt.Errorf("%w: nil object", store.ErrInvalid)
	}
	m := obj.GetObjectMeta()
	if m.Name == "" {
		return zero, fmt.Errorf("%w: update %s: metadata.name is required", store.ErrInvalid, c.res.Name)
	}
	return c.object(ctx, http.MethodPut, c.path(m.Namespace, m.Name), obj, "")
}

// UpdateStatus replaces obj's status through the status subresource
// (PUT .../<name>/status), compare-and-swap on its resourceVersion (none:
// unconditional). The server keeps everything but the status as stored.
// A resource without a status subresource answers 404.
func (c *Client[T]) UpdateStatus(ctx context.Context, obj T) (T, error) {
	var zero T
	if reflect.ValueOf(obj).IsNil() {
		return zero, fmt.Errorf("%w: nil object", store.ErrInvalid)
	}
	m := obj.GetObjectMeta()
	if m.Name == "" {
		return zero, fmt.Errorf("%w: update %s status: metadata.name is required", store.ErrInvalid, c.res.Name)
	}
	return c.object(ctx, http.MethodPut, c.path(m.Namespace, m.Name)+"/status", obj, "")
}

// Delete deletes an object with the preconditions of opts; it returns the
// object's last state (or, with finalizers or a grace period the server's
// strategy gives it, the object marked for deletion).
func (c *Client[T]) Delete(ctx context.Context, namespace, name string, opts ...store.DeleteOption) (T, error) {
	return c.object(ctx, http.MethodDelete, c.path(namespace, name), deleteBody(ctx, nil, opts), "")
}

// DeleteNow deletes an object at once: DeleteOptions with
// gracePeriodSeconds 0, the final delete a kubelet sends once a pod's
// containers have stopped, and what Kubernetes' pod GC and
// "kubectl delete --grace-period=0 --force" send. Finalizers still hold
// the object. opts are preconditions as for Delete.
func (c *Client[T]) DeleteNow(ctx context.Context, namespace, name string, opts ...store.DeleteOption) error {
	zero := int64(0)
	_, err := c.object(ctx, http.MethodDelete, c.path(namespace, name), deleteBody(ctx, &zero, opts), "")
	return err
}

// deleteBody is the DeleteOptions body of a delete: opts' preconditions,
// the grace period if set, and dryRun=All for a dry-run ctx.
func deleteBody(ctx context.Context, grace *int64, opts []store.DeleteOption) map[string]any {
	p := store.ResolveDeleteOptions(opts...)
	body := map[string]any{"kind": "DeleteOptions", "apiVersion": "v1"}
	pre := map[string]string{}
	if p.UID != "" {
		pre["uid"] = p.UID
	}
	if p.ResourceVersion != "" {
		pre["resourceVersion"] = p.ResourceVersion
	}
	if len(pre) > 0 {
		body["preconditions"] = pre
	}
	if grace != nil {
		body["gracePeriodSeconds"] = *grace
	}
	if p.PropagationPolicy != "" {
		body["propagationPolicy"] = string(p.PropagationPolicy)
	}
	if store.DryRunFrom(ctx) {
		body["dryRun"] = []string{DryRunAll}
	}
	return body
}

// Call sends one request about an object (or, with name "", the
// collection) that the typed methods do not cover: a subresource such as
// "status", "binding" or "token" (sub; "" for the object itself), with
// query parameters, body encoded as JSON (nil sends none) and the answer
// decoded into out (nil discards it). Errors are those of the other
// methods (a *ClientError wrapping the store sentinel); fences in ctx are
// sent as for every write.
func (c *Client[T]) Call(ctx context.Context, method, namespace, name, sub string, query url.Values, body, out any) error {
	u := c.path(namespace, name)
	if sub != "" {
		u += "/" + url.PathEscape(sub)
	}
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	resp, err := c.do(ctx, method, u, body, "")
	if err != nil {
		return err
	}
	if out == nil {
		resp.Body.Close()
		return nil
	}
	return c.decodeResponse(resp, out)
}

// GuaranteedUpdate reads the object, applies fn and writes the result,
// retrying on conflict until it succeeds, fn fails or ctx ends.
func (c *Client[T]) GuaranteedUpdate(ctx context.Context, namespace, name string, fn func(T) (T, error)) (T, error) {
	var zero T
	for {
		cur, err := c.Get(ctx, namespace, name)
		if err != nil {
			return zero, err
		}
		rv := cur.GetObjectMeta().ResourceVersion
		next, err := fn(cur)
		if err != nil {
			return zero, fmt.Errorf("%s %s/%s: %w", c.res.Name, namespace, name, err)
		}
		next.GetObjectMeta().ResourceVersion = rv
		out, err := c.Update(ctx, next)
		if err == nil || !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrFenced) {
			return out, err
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
	}
}

type clientList[T any] struct {
	Metadata listMeta `json:"metadata"`
	Items    []T      `json:"items"`
}

// List lists objects in namespace ("" = all); Selector, Limit, Continue and
// Revision are sent to the server, Filter is applied here.
func (c *Client[T]) List(ctx context.Context, namespace string, opts store.ListOptions) (*store.List[T], error) {
	q := url.Values{}
	if !opts.Selector.Empty() {
		q.Set("labelSelector", opts.Selector.String())
	}
	if c.fields != "" {
		q.Set("fieldSelector", c.fields)
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.FormatInt(opts.Limit, 10))
	}
	if opts.Continue != "" {
		q.Set("continue", opts.Continue)
	} else if opts.Revision > 0 {
		q.Set("resourceVersion", strconv.FormatInt(opts.Revision, 10))
		q.Set("resourceVersionMatch", "Exact")
	}
	u := c.path(namespace, "")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	resp, err := c.do(ctx, http.MethodGet, u, nil, "")
	if err != nil {
		return nil, err
	}
	var l clientList[T]
	if err := c.decodeResponse(resp, &l); err != nil {
		return nil, err
	}
	rev, err := store.ParseRevision(l.Metadata.ResourceVersion)
	if err != nil {
		return nil, fmt.Errorf("list %s: server sent %w", c.res.Name, err)
	}
	out := &store.List[T]{Items: make([]T, 0, len(l.Items)), Revision: rev, Continue: l.Metadata.Continue}
	for _, it := range l.Items {
		if opts.Filter == nil || opts.Filter(it) {
			out.Items = append(out.Items, it)
		}
	}
	return out, nil
}

// Watch streams changes after opts.AfterRevision (0: after the current
// revision). The stream ends with ErrGone when that revision is compacted,
// and with watch.ErrClosed when the server ends the stream (for example on
// shutdown); watch again from the last revision seen.
func (c *Client[T]) Watch(ctx context.Context, namespace string, opts store.WatchOptions) (watch.Watcher[T], error) {
	after := opts.AfterRevision
	if after < 0 {
		return nil, fmt.Errorf("%w: watch %s: negative AfterRevision", store.ErrInvalid, c.res.Name)
	}
	if after == 0 {
		l, err := c.List(ctx, namespace, store.ListOptions{Limit: 1})
		if err != nil {
			return nil, err
		}
		after = l.Revision
	}
	q := url.Values{"watch": {"true"}, "resourceVersion": {strconv.FormatInt(after, 10)}}
	if !opts.Selector.Empty() {
		q.Set("labelSelector", opts.Selector.String())
	}
	if c.fields != "" {
		q.Set("fieldSelector", c.fields)
	}
	if opts.Bookmarks {
		q.Set("allowWatchBookmarks", "true")
	}
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.do(ctx, http.MethodGet, c.path(namespace, "")+"?"+q.Encode(), nil, "")
	if err != nil {
		cancel()
		return nil, err
	}
	out := watch.NewStream[T](128)
	go func() {
		defer cancel()
		defer resp.Body.Close()
		out.Close(c.pump(ctx, resp.Body, out, opts))
	}()
	go func() {
		select {
		case <-out.Done():
			cancel() // Stop: unblock the body read
		case <-ctx.Done():
		}
	}()
	return out, nil
}

func (c *Client[T]) pump(ctx context.Context, body io.Reader, out *watch.Stream[T], opts store.WatchOptions) error {
	dec := watch.NewDecoder(body, 0)
	for {
		we, err := dec.Next()
		if err != nil {
			if ctx.Err() != nil {
				select {
				case <-out.Done():
					return watch.ErrStopped
				default:
				}
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return watch.ErrClosed
			}
			return fmt.Errorf("watch %s: %w", c.res.Name, err)
		}
		ev, err := watch.DecodeEvent[T](we)
		if err != nil {
			return fmt.Errorf("watch %s: %w", c.res.Name, err)
		}
		switch ev.Type {
		case watch.Error:
			return ev.Err
		case watch.Bookmark:
			if !opts.Bookmarks {
				continue
			}
			var zero T
			ev.Object = zero
		default:
			if opts.Filter != nil && !opts.Filter(ev.Object) {
				continue
			}
		}
		if !out.Send(ctx, ev) {
			return watch.ErrStopped
		}
	}
}

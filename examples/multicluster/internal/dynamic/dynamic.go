// Package dynamic reads, watches, applies and deletes objects of any kind an
// apiserver serves, by apiVersion and kind, as raw JSON: the hub reads a
// Subscription's feeds with it and the agent applies Descriptions in its
// child. It finds each kind's resource and scope in the server's
// discovery documents (/api/v1, /apis/<group>/<version>), as client-go's
// RESTMapper does, and applies with server-side apply (PATCH
// application/apply-patch+yaml, force), so one call creates or updates.
// Errors carry the server's Status message and wrap store.ErrNotFound,
// store.ErrInvalid and the other store sentinels where the code says so.
package dynamic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/setpoint-dev/setpoint/store"
	"github.com/setpoint-dev/setpoint/watch"
)

// Client reaches one apiserver with an authenticated HTTP client.
type Client struct {
	hc     *http.Client
	server string
	mu     sync.Mutex
	kinds  map[string]map[string]resource // apiVersion -> kind -> resource
}

type resource struct {
	name       string
	namespaced bool
}

// New returns a Client of the apiserver at server (its base URL) through
// hc, which carries the credentials.
func New(hc *http.Client, server string) *Client {
	return &Client{hc: hc, server: strings.TrimSuffix(server, "/"), kinds: map[string]map[string]resource{}}
}

// Ref names one object.
type Ref struct {
	APIVersion, Kind, Namespace, Name string
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// RefOf reads the apiVersion, kind, namespace and name of obj.
func RefOf(obj []byte) (Ref, error) {
	var m struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(obj, &m); err != nil {
		return Ref{}, fmt.Errorf("%w: not a JSON object: %v", store.ErrInvalid, err)
	}
	if m.APIVersion == "" || m.Kind == "" || m.Metadata.Name == "" {
		return Ref{}, fmt.Errorf("%w: an object needs apiVersion, kind and metadata.name", store.ErrInvalid)
	}
	return Ref{APIVersion: m.APIVersion, Kind: m.Kind, Namespace: m.Metadata.Namespace, Name: m.Metadata.Name}, nil
}

// path returns the URL path of r (or of its collection when name is
// empty), resolving its kind through discovery.
func (c *Client) path(ctx context.Context, r Ref) (string, error) {
	res, err := c.resolve(ctx, r.APIVersion, r.Kind)
	if err != nil {
		return "", err
	}
	p := "/apis/" + r.APIVersion
	if !strings.Contains(r.APIVersion, "/") {
		p = "/api/" + r.APIVersion
	}
	if res.namespaced {
		if r.Namespace == "" {
			return "", fmt.Errorf("%w: %s: %s is namespaced, no namespace given", store.ErrInvalid, r, r.Kind)
		}
		p += "/namespaces/" + url.PathEscape(r.Namespace)
	}
	p += "/" + res.name
	if r.Name != "" {
		p += "/" + url.PathEscape(r.Name)
	}
	return p, nil
}

func (c *Client) resolve(ctx context.Context, apiVersion, kind string) (resource, error) {
	c.mu.Lock()
	kinds, ok := c.kinds[apiVersion]
	c.mu.Unlock()
	if !ok || kinds[kind] == (resource{}) {
		p := "/apis/" + apiVersion
		if !strings.Contains(apiVersion, "/") {
			p = "/api/" + apiVersion
		}
		var list struct {
			Resources []struct {
				Name       string `json:"name"`
				Kind       string `json:"kind"`
				Namespaced bool   `json:"namespaced"`
			} `json:"resources"`
		}
		data, err := c.do(ctx, "GET", p, "", nil)
		if err != nil {
			return resource{}, fmt.Errorf("discovery of %s: %w", apiVersion, err)
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return resource{}, fmt.Errorf("discovery of %s: %w", apiVersion, err)
		}
		kinds = map[string]resource{}
		for _, r := range list.Resources {
			if !strings.Contains(r.Name, "/") {
				kinds[r.Kind] = resource{name: r.Name, namespaced: r.Namespaced}
			}
		}
		c.mu.Lock()
		c.kinds[apiVersion] = kinds
		c.mu.Unlock()
	}
	res, ok := kinds[kind]
	if !ok {
		return resource{}, fmt.Errorf("%w: the server has no kind %s in %s", store.ErrNotFound, kind, apiVersion)
	}
	return res, nil
}

// Get returns the object r names.
func (c *Client) Get(ctx context.Context, r Ref) ([]byte, error) {
	p, err := c.path(ctx, r)
	if err != nil {
		return nil, err
	}
	data, err := c.do(ctx, "GET", p, "", nil)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", r, err)
	}
	return data, nil
}

// Apply creates or updates obj by server-side apply as fieldManager,
// taking over conflicting fields (force), and returns the stored object.
func (c *Client) Apply(ctx context.Context, obj []byte, fieldManager string) ([]byte, error) {
	r, err := RefOf(obj)
	if err != nil {
		return nil, err
	}
	p, err := c.path(ctx, r)
	if err != nil {
		return nil, err
	}
	p += "?fieldManager=" + url.QueryEscape(fieldManager) + "&force=true"
	data, err := c.do(ctx, "PATCH", p, "application/apply-patch+yaml", obj)
	if err != nil {
		return nil, fmt.Errorf("apply %s: %w", r, err)
	}
	return data, nil
}

// Delete deletes the object r names; one already gone is no error.
func (c *Client) Delete(ctx context.Context, r Ref) error {
	p, err := c.path(ctx, r)
	if err != nil {
		return err
	}
	if _, err := c.do(ctx, "DELETE", p, "", nil); err != nil && !isNotFound(err) {
		return fmt.Errorf("delete %s: %w", r, err)
	}
	return nil
}

// Event is one event of a watch: its type (ADDED, MODIFIED, DELETED,
// BOOKMARK) and the object as JSON.
type Event struct {
	Type   string
	Object json.RawMessage
}

// Watch watches the object r names (with no name, every object of its
// kind in r.Namespace) and calls fn with each event, in order, until ctx
// ends (it then returns nil) or the server ends the stream (it returns an
// error, wrapping io.EOF for a clean end, or the server's Status of an
// ERROR event). It starts from the current state, which the server sends
// first as ADDED events (Kubernetes' watch without a resourceVersion), so
// a caller that watches again after an error sees the object anew.
func (c *Client) Watch(ctx context.Context, r Ref, fn func(Event)) error {
	p, err := c.path(ctx, r)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", c.server+p+"?watch=true", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watch %s: %w", r, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return fmt.Errorf("watch %s: %w", r, &StatusError{Code: resp.StatusCode, Message: strings.TrimSpace(string(data))})
	}
	dec := watch.NewDecoder(resp.Body, 0)
	for {
		ev, err := dec.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch %s: %w", r, err)
		}
		if ev.Type == watch.Error {
			var st struct {
				Code    int    `json:"code"`
				Reason  string `json:"reason"`
				Message string `json:"message"`
			}
			_ = json.Unmarshal(ev.Object, &st)
			return fmt.Errorf("watch %s: %w", r, &StatusError{Code: st.Code, Reason: st.Reason, Message: st.Message})
		}
		fn(Event{Type: string(ev.Type), Object: ev.Object})
	}
}

func isNotFound(err error) bool {
	var e *StatusError
	return asStatus(err, &e) && e.Code == http.StatusNotFound
}

// StatusError is an error answer of the apiserver: its Status's code,
// reason and message.
type StatusError struct {
	Code    int
	Reason  string
	Message string
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%d %s", e.Code, e.Reason)
	}
	return e.Message
}

// Unwrap maps the code to the store's sentinels.
func (e *StatusError) Unwrap() error {
	switch e.Code {
	case http.StatusNotFound:
		return store.ErrNotFound
	case http.StatusConflict:
		if e.Reason == "AlreadyExists" {
			return store.ErrAlreadyExists
		}
		return store.ErrConflict
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		return store.ErrInvalid
	}
	return nil
}

func asStatus(err error, target **StatusError) bool {
	for err != nil {
		if e, ok := err.(*StatusError); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// maxBody bounds a response read.
const maxBody = 16 << 20

func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBody {
		return nil, fmt.Errorf("%s %s: answer larger than %d bytes", method, path, maxBody)
	}
	if resp.StatusCode/100 != 2 {
		var st struct {
			Reason  string `json:"reason"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(data, &st)
		if st.Message == "" {
			st.Message = strings.TrimSpace(string(data))
		}
		return nil, &StatusError{Code: resp.StatusCode, Reason: st.Reason, Message: st.Message}
	}
	return data, nil
}

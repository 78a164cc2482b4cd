package kubelet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/authentication"
)

// DefaultTokenExpiration is a projected service account token's lifetime
// when the volume does not say (Kubernetes' default, one hour).
const DefaultTokenExpiration = time.Hour

// serviceAccountToken returns the token of a serviceAccountToken
// projection: requested through the TokenRequest API
// (serviceaccounts/<name>/token), bound to the pod, and requested again
// once 80% of its lifetime has passed, as Kubernetes' kubelet does.
func (k *Kubelet) serviceAccountToken(ctx context.Context, pod *api.Pod, vol string, p *api.ServiceAccountTokenProjection) (string, error) {
	key := string(pod.UID) + "/" + vol + "/" + p.Path
	now := k.cfg.Clock.Now()
	k.vols.mu.Lock()
	cached, ok := k.vols.tokens[key]
	k.vols.mu.Unlock()
	if ok && now.Before(cached.refresh) {
		return cached.token, nil
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	exp := int64(DefaultTokenExpiration / time.Second)
	if p.ExpirationSeconds != nil {
		exp = *p.ExpirationSeconds
	}
	tr := authentication.TokenRequest{Spec: authentication.TokenRequestSpec{ExpirationSeconds: &exp,
		BoundObjectRef: &authentication.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: string(pod.UID)}}}
	tr.APIVersion, tr.Kind = "authentication.k8s.io/v1", "TokenRequest"
	if p.Audience != "" {
		tr.Spec.Audiences = []string{p.Audience}
	}
	body, err := json.Marshal(&tr)
	if err != nil {
		return "", err
	}
	u := strings.TrimSuffix(k.cfg.Client.Server(), "/") + "/api/v1/namespaces/" + url.PathEscape(pod.Namespace) +
		"/serviceaccounts/" + url.PathEscape(sa) + "/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := k.cfg.Client.HTTPClient().Do(req)
	if err != nil {
		return "", fmt.Errorf("requesting a token for service account %s/%s: %w", pod.Namespace, sa, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		var st struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &st) != nil || st.Message == "" {
			st.Message = strings.TrimSpace(string(b))
		}
		return "", fmt.Errorf("requesting a token for service account %s/%s: %s (HTTP %d)", pod.Namespace, sa, st.Message, resp.StatusCode)
	}
	var out authentication.TokenRequest
	if err := json.Unmarshal(b, &out); err != nil || out.Status.Token == "" {
		return "", fmt.Errorf("requesting a token for service account %s/%s: bad response: %v", pod.Namespace, sa, err)
	}
	life := out.Status.ExpirationTimestamp.Sub(now)
	if life <= 0 {
		life = time.Duration(exp) * time.Second
	}
	k.vols.mu.Lock()
	if k.vols.tokens != nil {
		k.vols.tokens[key] = cachedToken{token: out.Status.Token, refresh: now.Add(life * 8 / 10)}
	}
	k.vols.mu.Unlock()
	return out.Status.Token, nil
}

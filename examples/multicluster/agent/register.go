package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/setpoint-dev/setpoint/examples/api/multicluster"
	"github.com/setpoint-dev/setpoint/examples/multicluster/tunnel"
)

// RegisterConfig says how an agent registers its child with a hub.
type RegisterConfig struct {
	// HubURL and HubCAPEM locate and authenticate the hub.
	HubURL   string
	HubCAPEM []byte
	// BootstrapToken is the token that may create a
	// ClusterRegistrationRequest ("<id>.<secret>"); it is used for
	// nothing else.
	BootstrapToken string
	// Spec describes the child (ClusterID required).
	Spec multicluster.ClusterRegistrationRequestSpec
	// PollInterval is how often to ask again while the request is pending
	// (default 5 s).
	PollInterval time.Duration
	// Clock times the polls (default the real clock).
	Clock clockwork.Clock
}

// ErrDenied is returned by Register when the hub denies the request.
var ErrDenied = errors.New("registration denied")

// Register sends the child's ClusterRegistrationRequest with the
// bootstrap token and waits until the hub approves it, returning the
// approved request (its status holds the agent's own token for HubToken),
// or denies it (ErrDenied), or ctx ends.
func Register(ctx context.Context, cfg RegisterConfig) (*multicluster.ClusterRegistrationRequest, error) {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cfg.HubCAPEM) {
		return nil, errors.New("register: HubCAPEM: no PEM certificate in it")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}, Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	req := multicluster.ClusterRegistrationRequest{Spec: cfg.Spec}
	req.APIVersion, req.Kind = multicluster.GroupVersion, "ClusterRegistrationRequest"
	req.Name = multicluster.RegistrationName(cfg.Spec.ClusterID)
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	for {
		r, err := http.NewRequestWithContext(ctx, "POST", cfg.HubURL+tunnel.RegistrationsPath, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+cfg.BootstrapToken)
		resp, err := hc.Do(r)
		if err != nil {
			return nil, fmt.Errorf("register cluster %s: %w", cfg.Spec.ClusterID, err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("register cluster %s: %w", cfg.Spec.ClusterID, err)
		}
		if resp.StatusCode/100 != 2 {
			return nil, fmt.Errorf("register cluster %s: hub answered %s: %s", cfg.Spec.ClusterID, resp.Status, bytes.TrimSpace(data))
		}
		var got multicluster.ClusterRegistrationRequest
		if err := json.Unmarshal(data, &got); err != nil {
			return nil, fmt.Errorf("register cluster %s: %w", cfg.Spec.ClusterID, err)
		}
		switch got.Status.Result {
		case multicluster.RegistrationApproved:
			if len(got.Status.Token) == 0 {
				return nil, fmt.Errorf("register cluster %s: approved without a token", cfg.Spec.ClusterID)
			}
			return &got, nil
		case multicluster.RegistrationDenied:
			return nil, fmt.Errorf("register cluster %s: %w: %s", cfg.Spec.ClusterID, ErrDenied, got.Status.ErrorMessage)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-cfg.Clock.After(cfg.PollInterval):
		}
	}
}

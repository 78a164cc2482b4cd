package bootstrapsigner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/bootstrap"
	"github.com/setpoint-dev/setpoint/examples/client"
	"github.com/setpoint-dev/setpoint/informer"
	"github.com/setpoint-dev/setpoint/reconcile"
	"github.com/setpoint-dev/setpoint/store"
)

// Config configures the signer. Client is required.
type Config struct {
	// Client reaches the apiserver; its shared informers are used.
	Client *client.Clientset
	// Clock decides which tokens have expired. Default real.
	Clock clockwork.Clock
	// Logger receives the logs. Default discard.
	Logger *slog.Logger
	// Registerer, if set, receives the reconcile metrics.
	Registerer prometheus.Registerer
}

// Validate reports the first invalid field; it changes nothing.
func (c *Config) Validate() error {
	if c.Client == nil {
		return errors.New("bootstrapsigner: Client is required")
	}
	return nil
}

// Signer keeps cluster-info signed.
type Signer struct {
	cfg        Config
	secrets    *informer.Informer[*api.Secret]
	configMaps *informer.Informer[*api.ConfigMap]
	ctrl       *reconcile.Controller[reconcile.Request]
}

// key is the one key the signer's queue holds.
var key = reconcile.Request{Namespace: bootstrap.ClusterInfoNamespace, Name: bootstrap.ClusterInfoName}

// New checks cfg and builds the signer.
func New(cfg Config) (*Signer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Signer{cfg: cfg}
	var err error
	if s.secrets, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.Secrets(), informer.Config[*api.Secret]{}); err != nil {
		return nil, fmt.Errorf("bootstrapsigner: %w", err)
	}
	if s.configMaps, _, err = informer.Shared(cfg.Client.Informers(), cfg.Client.ConfigMaps(), informer.Config[*api.ConfigMap]{}); err != nil {
		return nil, fmt.Errorf("bootstrapsigner: %w", err)
	}
	if s.ctrl, err = reconcile.New(reconcile.Config[reconcile.Request]{Name: "bootstrapsigner", Reconciler: reconcile.Func[reconcile.Request](s.sync),
		Workers: 1, Clock: cfg.Clock, Logger: cfg.Logger, Registerer: cfg.Registerer}); err != nil {
		return nil, fmt.Errorf("bootstrapsigner: %w", err)
	}
	onSecret := func(sec *api.Secret) {
		if sec.Namespace == bootstrap.Namespace && string(sec.Type) == bootstrap.SecretType {
			s.ctrl.Queue().Add(key)
		}
	}
	if _, err := s.secrets.AddHandler(informer.HandlerFuncs[*api.Secret]{
		AddFunc:    func(sec *api.Secret, _ bool) { onSecret(sec) },
		UpdateFunc: func(_, sec *api.Secret) { onSecret(sec) },
		DeleteFunc: func(sec *api.Secret, _ bool) { onSecret(sec) },
	}); err != nil {
		return nil, fmt.Errorf("bootstrapsigner: %w", err)
	}
	onCM := func(cm *api.ConfigMap) {
		if cm.Namespace == key.Namespace && cm.Name == key.Name {
			s.ctrl.Queue().Add(key)
		}
	}
	if _, err := s.configMaps.AddHandler(informer.HandlerFuncs[*api.ConfigMap]{
		AddFunc:    func(cm *api.ConfigMap, _ bool) { onCM(cm) },
		UpdateFunc: func(_, cm *api.ConfigMap) { onCM(cm) },
	}); err != nil {
		return nil, fmt.Errorf("bootstrapsigner: %w", err)
	}
	return s, nil
}

// Run waits for the caches and signs until ctx ends.
func (s *Signer) Run(ctx context.Context) error {
	if err := s.secrets.WaitForSync(ctx); err != nil {
		return nil // ctx ended
	}
	if err := s.configMaps.WaitForSync(ctx); err != nil {
		return nil
	}
	s.ctrl.Queue().Add(key)
	return s.ctrl.Run(ctx)
}

// Signatures returns the jws-kubeconfig-<id> entries kubeconfig should
// carry for the given Secrets at now, and the earliest expiration among
// the signing tokens (zero if none expires).
func Signatures(kubeconfig string, secrets []*api.Secret, now time.Time) (map[string]string, time.Time, error) {
	out := map[string]string{}
	var next time.Time
	for _, sec := range secrets {
		if sec.Namespace != bootstrap.Namespace || string(sec.Type) != bootstrap.SecretType || sec.DeletionTimestamp != nil ||
			string(sec.Data[bootstrap.KeyUsageSigning]) != "true" || bootstrap.Expired(sec.Data, now) {
			continue
		}
		id, secret := string(sec.Data[bootstrap.KeyTokenID]), string(sec.Data[bootstrap.KeyTokenSecret])
		if _, _, err := bootstrap.ParseToken(id + "." + secret); err != nil || sec.Name != bootstrap.SecretPrefix+id {
			continue // not a well-formed token Secret: it signs nothing
		}
		sig, err := bootstrap.DetachedSignature(kubeconfig, id, secret)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("signing with bootstrap token %s: %w", id, err)
		}
		out[bootstrap.JWSKeyPrefix+id] = sig
		if exp, ok := bootstrap.Expiration(sec.Data); ok && (next.IsZero() || exp.Before(next)) {
			next = exp
		}
	}
	return out, next, nil
}

func (s *Signer) sync(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	cm, ok := s.configMaps.Get(key.Namespace, key.Name)
	if !ok {
		return reconcile.Result{}, nil
	}
	kc, ok := cm.Data[bootstrap.KubeconfigKey]
	if !ok {
		s.cfg.Logger.Warn("cluster-info has no kubeconfig: nothing to sign", "controller", "bootstrapsigner", "object", key.Namespace+"/"+key.Name)
		return reconcile.Result{}, nil
	}
	now := s.cfg.Clock.Now()
	sigs, next, err := Signatures(kc, s.secrets.List(), now)
	if err != nil {
		return reconcile.Result{}, err
	}
	data := map[string]string{}
	for k, v := range cm.Data {
		if !strings.HasPrefix(k, bootstrap.JWSKeyPrefix) {
			data[k] = v
		}
	}
	maps.Copy(data, sigs)
	var res reconcile.Result
	if !next.IsZero() {
		res.RequeueAfter = next.Sub(now)
	}
	if maps.Equal(data, cm.Data) {
		return res, nil
	}
	upd := cm.DeepCopy()
	upd.Data = data
	if _, err := s.cfg.Client.ConfigMaps().Update(ctx, upd); err != nil {
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return reconcile.Result{Requeue: true}, nil // the cache catches up and the change comes back
		}
		return reconcile.Result{}, fmt.Errorf("updating %s/%s: %w", key.Namespace, key.Name, err)
	}
	s.cfg.Logger.Info("signed cluster-info", "controller", "bootstrapsigner", "object", key.Namespace+"/"+key.Name, "tokens", len(sigs))
	return res, nil
}

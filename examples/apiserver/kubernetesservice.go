package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"

	"github.com/setpoint-dev/setpoint/examples/api"
	"github.com/setpoint-dev/setpoint/examples/api/discovery"
	"github.com/setpoint-dev/setpoint/examples/apiserver/registry"
	"github.com/setpoint-dev/setpoint/store"
)

// ensureKubernetesService creates the kubernetes Service in default, as
// Kubernetes does: ClusterIP the first usable address of the first service
// range, port 443 (https) to the apiserver's port, and its EndpointSlice
// "kubernetes" listing the apiserver's address. An apiserver adds its own
// address to the slice if missing; addresses of apiservers that are gone
// are not removed (Kubernetes uses leases for that).
func (s *serviceAllocator) ensureKubernetesService(ctx context.Context, slices_ *store.Store[*discovery.EndpointSlice], addr string) error {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	port, _ := strconv.Atoi(portStr)
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.IsUnspecified() {
		ip = netip.MustParseAddr("127.0.0.1")
	}
	first := s.cidrs[0].Masked().Addr().Next()
	svc := registry.ServiceKind.New()
	svc.Namespace, svc.Name = "default", "kubernetes"
	svc.Labels = map[string]string{"component": "apiserver", "provider": "kubernetes"}
	svc.Spec.ClusterIP = first.String()
	svc.Spec.Ports = []api.ServicePort{{Name: "https", Protocol: api.ProtocolTCP, Port: 443, TargetPort: api.FromInt(int32(port))}}
	registry.ServiceKind.Default(svc)
	value, _ := json.Marshal(allocation{Namespace: svc.Namespace, Name: svc.Name})
	// an existing kubernetes Service is kept as it is, like any other
	if _, err := s.services.Get(ctx, svc.Namespace, svc.Name); errors.Is(err, store.ErrNotFound) {
		_, err = s.services.Create(store.WithSideWrites(ctx, store.SideWrite{Key: s.ipKey(first), Value: value}), svc)
		var ce *store.ConflictError
		switch {
		case errors.As(err, &ce):
			return fmt.Errorf("kubernetes service: its address %s is held by another service", first)
		case err != nil && !errors.Is(err, store.ErrAlreadyExists):
			return fmt.Errorf("kubernetes service: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("kubernetes service: %w", err)
	}
	family := discovery.AddressTypeIPv4
	if ip.Is6() {
		family = discovery.AddressTypeIPv6
	}
	for range 8 {
		sl, err := slices_.Get(ctx, "default", "kubernetes")
		if errors.Is(err, store.ErrNotFound) {
			sl = &discovery.EndpointSlice{ObjectMeta: store.ObjectMeta{Namespace: "default", Name: "kubernetes",
				Labels: map[string]string{discovery.LabelServiceName: "kubernetes"}}, AddressType: family,
				Ports: []discovery.EndpointPort{{Name: ptrTo("https"), Protocol: ptrTo(api.ProtocolTCP), Port: ptrTo(int32(port))}}}
		} else if err != nil {
			return fmt.Errorf("kubernetes endpointslice: %w", err)
		}
		if slices.ContainsFunc(sl.Endpoints, func(e discovery.Endpoint) bool { return slices.Contains(e.Addresses, ip.String()) }) {
			return nil
		}
		sl.Endpoints = append(sl.Endpoints, discovery.Endpoint{Addresses: []string{ip.String()}, Conditions: discovery.EndpointConditions{Ready: ptrTo(true)}})
		if sl.ResourceVersion == "" {
			_, err = slices_.Create(ctx, sl)
		} else {
			_, err = slices_.Update(ctx, sl)
		}
		if err == nil || (!errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrAlreadyExists)) {
			if err != nil {
				return fmt.Errorf("kubernetes endpointslice: %w", err)
			}
			return nil
		}
	}
	return errors.New("kubernetes endpointslice: too many conflicts")
}

func ptrTo[T any](v T) *T { return &v }

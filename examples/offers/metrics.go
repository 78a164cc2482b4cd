package offers

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	made, accepted, declined *prometheus.CounterVec
	rescinded                *prometheus.CounterVec
	share                    *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		made: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "setpoint_offers_made_total", Help: "Offers made, by framework."}, []string{"framework"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "setpoint_offers_accepted_total", Help: "Offers accepted, by framework."}, []string{"framework"}),
		declined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "setpoint_offers_declined_total", Help: "Offers declined, by framework."}, []string{"framework"}),
		rescinded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "setpoint_offers_rescinded_total", Help: "Offers taken back, by framework and reason (Expired, Hoarding, NodeRemoved, FrameworkRemoved)."}, []string{"framework", "reason"}),
		share: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "setpoint_offers_dominant_share", Help: "Each framework's dominant share of the cluster, counting allocated and offered resources."}, []string{"framework"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.made, m.accepted, m.declined, m.rescinded, m.share} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

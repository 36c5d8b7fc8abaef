package server

import (
	"github.com/VictoriaMetrics/metrics"

	"github.com/invsys/inv/internal/buildinfo"
)

// registerBuildInfo adds inv_build_info{version,revision,goversion} 1: which
// build of invd serves, for dashboards and alerts on mixed versions.
func registerBuildInfo(set *metrics.Set) {
	set.NewGauge(buildinfo.Read().Metric(), func() float64 { return 1 })
}

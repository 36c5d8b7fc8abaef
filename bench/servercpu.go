package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CPUMeter is what a Target may also offer: the CPU seconds its server
// processes have used so far (user + system, summed over every node). Run
// reads it just before the first order and just after the last reply, so
// the difference is the servers' CPU for the measured run alone, whatever
// else shares the machine: CPU seconds do not depend on who else runs.
type CPUMeter interface {
	ServerCPUSeconds(ctx context.Context) (float64, error)
}

// MetricsCPU reads process_cpu_seconds_total from Prometheus text pages
// (invd's /metrics), one per server process, and sums them.
type MetricsCPU struct {
	URLs   []string // full URLs, e.g. http://127.0.0.1:7421/metrics
	Client *http.Client
}

// metricsCPUTimeout bounds one scrape: a /metrics page is a few KB.
const metricsCPUTimeout = 5 * time.Second

// maxMetricsPageBytes bounds what is read of one page.
const maxMetricsPageBytes = 8 << 20

// NewMetricsCPU takes a comma-separated list of host:port or URLs; a bare
// host:port means http://host:port/metrics.
func NewMetricsCPU(list string) (*MetricsCPU, error) {
	m := &MetricsCPU{Client: &http.Client{Timeout: metricsCPUTimeout}}
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if !strings.Contains(a, "://") {
			a = "http://" + a + "/metrics"
		}
		m.URLs = append(m.URLs, a)
	}
	if len(m.URLs) == 0 {
		return nil, errors.New("no metrics address")
	}
	return m, nil
}

// ServerCPUSeconds implements CPUMeter.
func (m *MetricsCPU) ServerCPUSeconds(ctx context.Context) (float64, error) {
	var sum float64
	for _, u := range m.URLs {
		v, err := m.scrape(ctx, u)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

func (m *MetricsCPU) scrape(ctx context.Context, url string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := m.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	v, err := ProcessCPUSeconds(io.LimitReader(resp.Body, maxMetricsPageBytes))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", url, err)
	}
	return v, nil
}

// ProcessCPUSeconds finds process_cpu_seconds_total in a Prometheus text
// page.
func ProcessCPUSeconds(r io.Reader) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, ok := strings.Cut(line, " ")
		if !ok || name != "process_cpu_seconds_total" {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			return 0, fmt.Errorf("process_cpu_seconds_total: %w", err)
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no process_cpu_seconds_total on the page")
}

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
	"sync"
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
// (invd's /metrics), one per server process, and sums them. From the same
// pages it keeps the stage histograms of its first and last reading: the
// run's stages (StageMeter, serverstages.go).
type MetricsCPU struct {
	URLs   []string // full URLs, e.g. http://127.0.0.1:7421/metrics
	Client *http.Client

	mu          sync.Mutex
	first, last stagePage // nil until read
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
	stages := stagePage{}
	for _, u := range m.URLs {
		v, err := m.scrape(ctx, u, stages)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	m.mu.Lock()
	if m.first == nil {
		m.first = stages
	} else {
		m.last = stages
	}
	m.mu.Unlock()
	return sum, nil
}

// Stages implements StageMeter: the stages observed between the first
// and the last reading (none before two readings).
func (m *MetricsCPU) Stages() []StageStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		return nil
	}
	return stagesBetween(m.first, m.last)
}

func (m *MetricsCPU) scrape(ctx context.Context, url string, stages stagePage) (float64, error) {
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
	v, err := readMetricsPage(io.LimitReader(resp.Body, maxMetricsPageBytes), stages)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", url, err)
	}
	return v, nil
}

// ProcessCPUSeconds finds process_cpu_seconds_total in a Prometheus text
// page.
func ProcessCPUSeconds(r io.Reader) (float64, error) { return readMetricsPage(r, nil) }

// readMetricsPage finds process_cpu_seconds_total in a Prometheus text page
// and adds the page's stage histograms to stages (nil: not wanted).
func readMetricsPage(r io.Reader, stages stagePage) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	cpu, found := 0.0, false
	for sc.Scan() {
		// name{labels} value [timestamp]; invd's labels hold no spaces.
		name, rest, ok := strings.Cut(sc.Text(), " ")
		fields := strings.Fields(rest)
		if !ok || len(fields) == 0 || name == "" || name[0] == '#' {
			continue
		}
		value := fields[0]
		if stages != nil {
			stages.add(name, value)
		}
		if name != "process_cpu_seconds_total" || found {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, fmt.Errorf("process_cpu_seconds_total: %w", err)
		}
		cpu, found = v, true
		if stages == nil {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if !found {
		return 0, errors.New("no process_cpu_seconds_total on the page")
	}
	return cpu, nil
}

//go:build failpoints

package failpoint

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// serve answers the arming endpoint (see the package doc) on addr, for the
// life of the process.
func serve(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("clear") != "" {
			Clear()
		}
		if spec := q.Get("set"); spec != "" {
			if err := Set(spec); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			log().Warn("failpoints armed", "spec", spec)
		}
		_, _ = fmt.Fprint(w, Status())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log().Error("failpoint: http", "error", err)
		}
	}()
	return nil
}

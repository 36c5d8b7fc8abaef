package main

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// The shop's page (web/): plain HTML, CSS and JavaScript on the JSON API
// above, embedded in the binary, nothing fetched from elsewhere. It draws
// the pickup barcode itself (web/code128.js: Code 128, as SVG).
//
//go:embed web
var web embed.FS

// product is an item the page offers: its SKU and the name it shows.
type product struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
}

// parseProducts reads the -products flag: SKU=Name pairs, comma separated.
func parseProducts(s string) []product {
	var out []product
	for _, pair := range strings.Split(s, ",") {
		sku, name, _ := strings.Cut(strings.TrimSpace(pair), "=")
		if sku = strings.TrimSpace(sku); sku != "" {
			out = append(out, product{SKU: sku, Name: strings.TrimSpace(name)})
		}
	}
	return out
}

// mountPage serves the page at /, its files under /web/, and the products
// it offers at /products.
func (s *shop) mountPage(mux *http.ServeMux) {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	files := http.FileServerFS(sub)
	mux.Handle("GET /web/", pageHeaders(http.StripPrefix("/web/", files)))
	mux.Handle("GET /{$}", pageHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, sub, "index.html")
	})))
	mux.HandleFunc("GET /products", func(w http.ResponseWriter, _ *http.Request) {
		list := s.products
		if list == nil {
			list = []product{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"products": list})
	})
}

// pageHeaders keeps the page to its own scripts and styles.
func pageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}

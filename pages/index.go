package pages

import (
	"html/template"
	"net/http"
)

// indexPage lists every endpoint of the HTTP port, as nats-server's
// monitoring port does at its root: a person who finds the port finds what
// it offers.
var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Name}} — HTTP endpoints</title>
<link rel="stylesheet" href="/assets/common.css">
</head>
<body>
<header class="bar"><h1>{{.Name}} <span class="muted">node {{.NodeID}}</span></h1></header>
<main class="narrow">
<h2>Endpoints</h2>
<table class="endpoints">
<thead><tr><th scope="col">path</th><th scope="col">what it is</th></tr></thead>
<tbody>
{{range .Endpoints}}<tr><td>{{if .Link}}<a href="{{.Path}}">{{.Path}}</a>{{else}}<code>{{.Path}}</code>{{end}}</td><td>{{.About}}</td></tr>
{{end}}</tbody>
</table>
{{if .Note}}<p class="note" role="note">{{.Note}}</p>{{end}}
</main>
</body>
</html>
`))

// Index serves the endpoint index at /. note, when set, says why the
// pages are not served.
func Index(name string, nodeID uint32, endpoints []Endpoint, note string) http.Handler {
	data := struct {
		Name      string
		NodeID    uint32
		Endpoints []Endpoint
		Note      string
	}{name, nodeID, endpoints, note}
	return pageHeaders(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = indexPage.Execute(w, data)
	}))
}

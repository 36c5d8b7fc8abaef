// Package pages is what people see of invd in a browser: the operator
// console (live sell-through, window fill, pickup KPIs, refusals, raft
// state, overload signals), the store counter (scan a pickup code, see the
// order, hand it over), and the endpoint index at / of the HTTP port.
//
// The server mounts Handler on its HTTP port and runs a Keeper, which runs
// Follow while the pages are used: Follow keeps the Book from the change
// feed of the node's own shards, and the console reads the book, never
// every item. The package reaches the server through one
// small door, Backend (tokens, commands through the router, pickup rate
// limits, the node's raft and overload figures), so that its handlers are
// tested against a fake as well as a real invd.
//
// The pages are plain HTML, CSS and JavaScript embedded with go:embed
// (assets/): no build step, nothing fetched from elsewhere. Charts are
// inline SVG drawn by the pages' own script.
//
// docs/adr/0090..0094 and 0124 record the decisions: where the pages' data
// comes from, their access rules, the counter's check before a handover,
// why invd serves the counter, the browser tests, and why the book follows
// only while the pages are used.
//
// It may import engine, raftstore (the feed's positions and events) and the
// standard library.
package pages

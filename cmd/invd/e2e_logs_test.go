// A short invd session logs a handful of lines, in text and in JSON: a
// node of 16 shards starts, serves a put and a reserve over an open
// connection, and stops on SIGTERM. Raft's per-shard info records stay out
// (at debug), no line prints a format verb literally ("%+v"), no line has a
// key twice (the gnet line had component twice), and the stop says what it
// waits for, one line per wait, then how long it took.
package main_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/invsys/inv/engine"
	"github.com/invsys/inv/internal/invdtest"
)

// maxSessionLines bounds the log of the session: ready, serving, gnet's
// line, and the stop's lines (stopping, connections, raft groups, server
// stopped, stopped).
const maxSessionLines = 10

func TestShortSessionLog(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			p, err := invdtest.Start(invdtest.Options{Bin: invdBin, Data: t.TempDir() + "/data", Shards: 16,
				Config: fastRaft + "log_format = " + format + "\n"})
			if err != nil {
				t.Fatal(err)
			}
			cleanupProc(t, &p)
			c := dial(t, p)
			want(t, c, engine.OK, putItem("LOG", "S1", 5))
			want(t, c, engine.OK, reserve("LOG", "S1", "c1", 1))
			if err := p.Stop(30 * time.Second); err != nil {
				t.Fatalf("graceful stop: %v", err)
			}
			logs := strings.TrimSpace(p.Logs())
			lines := strings.Split(logs, "\n")
			if len(lines) > maxSessionLines {
				t.Errorf("%d lines, want at most %d:\n%s", len(lines), maxSessionLines, logs)
			}
			var msgs []string
			for _, l := range lines {
				if strings.Contains(l, "%+v") || strings.Contains(l, "%!") {
					t.Errorf("a format verb in %q", l)
				}
				var keys []string
				var msg string
				if format == "json" {
					keys, msg = jsonKeys(t, l)
				} else {
					keys, msg = textKeys(l)
				}
				msgs = append(msgs, msg)
				seen := map[string]bool{}
				for _, k := range keys {
					if seen[k] {
						t.Errorf("key %q twice in %q", k, l)
					}
					seen[k] = true
				}
			}
			for _, m := range []string{"shards ready", "serving", "stopping", "stopping: closing client connections",
				"stopping: closing the raft groups and Pebble", "stopped"} {
				found := false
				for _, got := range msgs {
					found = found || got == m
				}
				if !found {
					t.Errorf("no %q line in:\n%s", m, logs)
				}
			}
		})
	}
}

// textKeys returns the keys of one slog text line, in order, and its msg.
func textKeys(line string) (keys []string, msg string) {
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		eq := strings.IndexByte(line[i:], '=')
		if eq < 0 {
			break
		}
		key := line[i : i+eq]
		i += eq + 1
		var val string
		if i < len(line) && line[i] == '"' {
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			val = strings.ReplaceAll(line[i+1:min(j, len(line))], `\"`, `"`)
			i = j + 1
		} else {
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			val = line[i : i+j]
			i += j
		}
		keys = append(keys, key)
		if key == "msg" {
			msg = val
		}
	}
	return keys, msg
}

// jsonKeys returns the top-level keys of one JSON line, in order (a
// decoder into a map would hide a repeated key), and its msg.
func jsonKeys(t *testing.T, line string) (keys []string, msg string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %q", line)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		key := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		keys = append(keys, key)
		if key == "msg" {
			_ = json.Unmarshal(v, &msg)
		}
	}
	return keys, msg
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// defaultAddr is where invctl looks when nothing says otherwise: the
// address `make run` serves on.
const defaultAddr = "127.0.0.1:7420"

// maxConfigBytes bounds the config file: two keys fit many times over.
const maxConfigBytes = 64 << 10

// resolveSettings picks the address and token: a flag wins over the
// environment, which wins over the config file. An explicit --config that
// cannot be read is an error; the default file may be missing.
func resolveSettings(flagAddr, flagToken, confPath string, getenv func(string) string) (addr, token string, err error) {
	explicit := confPath != ""
	if !explicit {
		if home, herr := os.UserHomeDir(); herr == nil {
			confPath = filepath.Join(home, ".config", "inv", "invctl.conf")
		}
	}
	var file map[string]string
	if confPath != "" {
		file, err = readSettings(confPath)
		if err != nil && (explicit || !errors.Is(err, fs.ErrNotExist)) {
			return "", "", usagef("config %s: %v", confPath, err)
		}
		err = nil
	}
	addr = first(flagAddr, getenv("INV_ADDR"), file["addr"], defaultAddr)
	token = first(flagToken, getenv("INV_TOKEN"), file["token"])
	return addr, token, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// readSettings reads "key = value" lines; # starts a comment. Known keys:
// addr, token.
func readSettings(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(io.LimitReader(f, maxConfigBytes))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(text, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || (k != "addr" && k != "token") {
			return nil, fmt.Errorf("line %d: want addr = ... or token = ..., got %q", line, text)
		}
		out[k] = v
	}
	return out, sc.Err()
}

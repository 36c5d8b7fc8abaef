// This file proves that the format is what testdata/golden.json says it is,
// in both directions: every reference value of vectors*_test.go encodes to
// exactly the bytes stored there, and the stored bytes decode to exactly that
// value. The same file is what another implementation checks itself
// against; its "value" objects name fields as docs/PROTOCOL.md does.
//
// go test ./protocol -run Golden -update rewrites golden.json and the fuzz
// seed corpora (testdata/fuzz) from the vectors. Review the diff: a change of
// the bytes is a change of the protocol.
package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/invsys/inv/engine"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json and testdata/fuzz seed corpora")

const goldenPath = "testdata/golden.json"

type goldenFile struct {
	About   string        `json:"about"`
	Frames  []goldenFrame `json:"frames"`
	ShardOf []goldenShard `json:"shard_of"`
}

type goldenFrame struct {
	Name      string `json:"name"`
	About     string `json:"about"`
	Kind      string `json:"kind"`
	Op        string `json:"op"`
	OpCode    int    `json:"op_code"`
	Flags     int    `json:"flags"`
	ReqID     uint32 `json:"req_id"`
	Canonical bool   `json:"canonical"`
	Value     any    `json:"value"`
	Hex       string `json:"hex"`
}

type goldenShard struct {
	SKU      *string `json:"sku,omitempty"`
	Store    *string `json:"store,omitempty"`
	Customer *string `json:"customer,omitempty"`
	Key      *string `json:"key,omitempty"`
	Shards   int     `json:"shards"`
	Hash     string  `json:"hash"` // decimal: exact in any JSON reader
	Shard    int     `json:"shard"`
}

const goldenAbout = "Reference frames of the inv wire protocol (docs/PROTOCOL.md). " +
	"Each frame: hex is the whole frame (header and payload); value is the decoded payload, " +
	"fields named as in the spec, absent fields zero; enums (op, code, state, kind, compression) by name. " +
	"Integers are exact 64-bit values: read them with a 64-bit-safe JSON parser. " +
	"canonical false: compressed bytes may differ between compressors; decompress and compare the value. " +
	"shard_of: routing hash vectors; hash is FNV-1a 64 in decimal: of the store (an item's sku does not take part), or of the customer, or of the idempotency key."

func buildGolden(t *testing.T) goldenFile {
	g := goldenFile{About: goldenAbout}
	names := map[string]bool{}
	for _, v := range allVectors() {
		if names[v.name] {
			t.Fatalf("two vectors named %s", v.name)
		}
		names[v.name] = true
		frame := v.encode(nil)
		f, n, err := ReadFrame(frame, MaxFrameBytesLimit)
		if err != nil || n != len(frame) {
			t.Fatalf("%s: encoded frame does not read back: n=%d len=%d err=%v", v.name, n, len(frame), err)
		}
		g.Frames = append(g.Frames, goldenFrame{
			Name: v.name, About: v.about, Kind: v.kind,
			Op: f.Op.String(), OpCode: int(f.Op), Flags: int(f.Flags), ReqID: f.ReqID,
			Canonical: f.Compression() == CompressionNone,
			Value:     render(reflect.ValueOf(v.value)),
			Hex:       hex.EncodeToString(frame),
		})
	}
	for _, sv := range shardVectors {
		sv := sv
		gs := goldenShard{Shards: sv.Shards}
		var h uint64
		switch {
		case sv.Key != "":
			gs.Key = &sv.Key
			h = KeyHash([]byte(sv.Key))
			gs.Shard = ShardOfKey([]byte(sv.Key), sv.Shards)
		case sv.Customer != "":
			gs.Customer = &sv.Customer
			h = CustomerHash([]byte(sv.Customer))
			gs.Shard = ShardOfCustomer([]byte(sv.Customer), sv.Shards)
		default:
			if sv.SKU != "" {
				gs.SKU = &sv.SKU
			}
			gs.Store = &sv.Store
			h = StoreHash([]byte(sv.Store))
			gs.Shard = ShardOf([]byte(sv.SKU), []byte(sv.Store), sv.Shards)
		}
		gs.Hash = strconv.FormatUint(h, 10)
		g.ShardOf = append(g.ShardOf, gs)
	}
	return g
}

func TestGolden(t *testing.T) {
	g := buildGolden(t)
	want, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *update {
		if err := os.WriteFile(goldenPath, want, 0o644); err != nil {
			t.Fatal(err)
		}
		writeFuzzSeeds(t)
		return
	}
	got, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		var stored goldenFile
		_ = json.Unmarshal(got, &stored)
		t.Errorf("encoding differs from %s in: %s\n(if the change is intended, run with -update and review the diff)",
			goldenPath, strings.Join(diffFrames(stored, g), ", "))
	}
}

func diffFrames(a, b goldenFile) []string {
	var out []string
	byName := map[string]goldenFrame{}
	for _, f := range a.Frames {
		byName[f.Name] = f
	}
	for _, f := range b.Frames {
		if old, ok := byName[f.Name]; !ok || old.Hex != f.Hex {
			out = append(out, f.Name)
		}
	}
	if len(a.Frames) != len(b.Frames) {
		out = append(out, fmt.Sprintf("(%d frames stored, %d built)", len(a.Frames), len(b.Frames)))
	}
	if !reflect.DeepEqual(a.ShardOf, b.ShardOf) {
		out = append(out, "shard_of")
	}
	if len(out) == 0 {
		out = append(out, "names, values or layout of the file")
	}
	return out
}

// TestGoldenDecode decodes the stored bytes, not freshly encoded ones: the
// file, not this package, is the reference.
func TestGoldenDecode(t *testing.T) {
	raw, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	stored := map[string]goldenFrame{}
	for _, f := range g.Frames {
		stored[f.Name] = f
	}
	for _, v := range allVectors() {
		gf, ok := stored[v.name]
		if !ok {
			t.Errorf("%s: not in %s", v.name, goldenPath)
			continue
		}
		frame, err := hex.DecodeString(gf.Hex)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		f, n, err := ReadFrame(frame, DefaultMaxFrameBytes)
		if err != nil || n != len(frame) {
			t.Fatalf("%s: ReadFrame: n=%d of %d, %v", v.name, n, len(frame), err)
		}
		if int(f.Op) != gf.OpCode || int(f.Flags) != gf.Flags || f.ReqID != gf.ReqID {
			t.Errorf("%s: header op=%#x flags=%#x req=%d, file says %#x %#x %d",
				v.name, f.Op, f.Flags, f.ReqID, gf.OpCode, gf.Flags, gf.ReqID)
		}
		f, _, err = DecompressFrame(nil, f, DefaultMaxFrameBytes)
		if err != nil {
			t.Fatalf("%s: decompress: %v", v.name, err)
		}
		got, err := v.decode(f)
		if err != nil {
			t.Fatalf("%s: decode: %v", v.name, err)
		}
		if !reflect.DeepEqual(got, v.value) {
			t.Errorf("%s: decoded\n %#v\nwant\n %#v", v.name, got, v.value)
		}
	}
	for _, gs := range g.ShardOf {
		var h uint64
		var shard int
		switch {
		case gs.Key != nil:
			h, shard = KeyHash([]byte(*gs.Key)), ShardOfKey([]byte(*gs.Key), gs.Shards)
			if s2 := engine.KeyShard([]byte(*gs.Key), gs.Shards); s2 != shard {
				t.Errorf("shard vector %+v: ShardOfKey %d, engine.KeyShard %d", gs, shard, s2)
			}
		case gs.Customer != nil:
			h, shard = CustomerHash([]byte(*gs.Customer)), ShardOfCustomer([]byte(*gs.Customer), gs.Shards)
		default:
			var sku []byte
			if gs.SKU != nil {
				sku = []byte(*gs.SKU)
			}
			h, shard = StoreHash([]byte(*gs.Store)), ShardOf(sku, []byte(*gs.Store), gs.Shards)
			if s2 := ShardOfStore([]byte(*gs.Store), gs.Shards); s2 != shard {
				t.Errorf("shard vector %+v: ShardOf %d, ShardOfStore %d", gs, shard, s2)
			}
		}
		if strconv.FormatUint(h, 10) != gs.Hash || shard != gs.Shard {
			t.Errorf("shard vector %+v: got hash %d shard %d", gs, h, shard)
		}
	}
}

// render turns a value into what golden.json shows: structs as objects
// keyed by snake_case field names with zero fields left out (absent means
// zero on the wire too), byte slices as strings, enums by name, integers as
// exact decimal numbers.
func render(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	switch x := v.Interface().(type) {
	case engine.Op, engine.Code, engine.State, engine.EventKind, engine.CouponState, Op, Compression, SnapshotStatus, RaftState:
		return x.(fmt.Stringer).String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return render(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			sf := v.Type().Field(i)
			if !sf.IsExported() || v.Field(i).IsZero() {
				continue
			}
			m[snake(sf.Name)] = render(v.Field(i))
		}
		return m
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return string(v.Bytes())
		}
		list := make([]any, v.Len())
		for i := range list {
			list[i] = render(v.Index(i))
		}
		return list
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return json.Number(strconv.FormatUint(v.Uint(), 10))
	}
	panic("render: unsupported kind " + v.Kind().String())
}

// snake turns a Go field name into the spec's name: ExpiresAt → expires_at,
// MaxIDBytes → max_id_bytes, SKU → sku.
func snake(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prevLower := unicode.IsLower(r[i-1])
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || (nextLower && unicode.IsUpper(r[i-1])) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// writeFuzzSeeds writes every vector as seed corpus entries of the fuzz
// targets that read its kind of bytes (go's corpus file format).
func writeFuzzSeeds(t *testing.T) {
	for _, v := range allVectors() {
		frame := v.encode(nil)
		f, _, err := ReadFrame(frame, MaxFrameBytesLimit)
		if err != nil {
			t.Fatal(err)
		}
		seeds := map[string][]any{"FuzzReadFrame": {frame}, "FuzzReader": {frame}}
		if f.Compression() != CompressionNone {
			seeds["FuzzDecompress"] = []any{byte(f.Flags), f.Payload}
		} else {
			for target, args := range fuzzTargetsOf(v.kind, f) {
				seeds[target] = args
			}
		}
		for target, args := range seeds {
			writeSeed(t, target, v.name, args...)
		}
	}
}

func fuzzTargetsOf(kind string, f Frame) map[string][]any {
	switch kind {
	case "request":
		return map[string][]any{"FuzzDecodeRequest": {byte(f.Op), f.Payload}}
	case "result":
		return map[string][]any{"FuzzDecodeResult": {f.Payload}}
	case "batch_request":
		return map[string][]any{"FuzzDecodeBatchRequest": {f.Payload}}
	case "batch_result":
		return map[string][]any{"FuzzDecodeBatchResult": {f.Payload}}
	case "hello":
		return map[string][]any{"FuzzDecodeHello": {f.Payload}}
	case "hello_reply":
		return map[string][]any{"FuzzDecodeHelloReply": {f.Payload}}
	case "topology":
		return map[string][]any{"FuzzDecodeTopology": {f.Payload}}
	case "event":
		return map[string][]any{"FuzzDecodeEvent": {f.Payload}}
	case "status":
		return map[string][]any{"FuzzDecodeStatus": {f.Payload}}
	case "shard_call":
		return map[string][]any{"FuzzDecodeShardCall": {f.Payload}}
	case "ping", "subscribe", "subscribed", "error", "not_leader", "snapshot":
		return map[string][]any{"FuzzDecodeControl": {f.Payload}}
	}
	return nil
}

func writeSeed(t *testing.T, target, name string, args ...any) {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch a := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", a)
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", a)
		default:
			t.Fatalf("seed argument of type %T", a)
		}
	}
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestVectorsCoverEveryOp keeps the reference complete: every op a client
// may send has a request and a reply in golden.json, and so has every
// control op.
func TestVectorsCoverEveryOp(t *testing.T) {
	seen := map[Op][2]bool{} // [request, reply]
	for _, v := range allVectors() {
		f, _, err := ReadFrame(v.encode(nil), MaxFrameBytesLimit)
		if err != nil {
			t.Fatal(err)
		}
		s := seen[f.Op]
		if f.Reply() {
			s[1] = true
		} else {
			s[0] = true
		}
		seen[f.Op] = s
	}
	want := map[Op][2]bool{
		OpHello: {true, true}, OpPing: {true, true}, OpBatch: {true, true}, OpTopology: {true, true},
		OpSubscribe: {true, true}, OpEvent: {false, true},
		OpSnapshot: {true, true}, OpStatus: {true, true}, OpError: {false, true}, OpNotLeader: {false, true},
	}
	for _, op := range clientOps() {
		want[DomainOp(op)] = [2]bool{true, true}
	}
	for op, w := range want {
		if g := seen[op]; g[0] != w[0] || g[1] != w[1] {
			t.Errorf("%v: vectors for request %v reply %v, want %v %v", op, g[0], g[1], w[0], w[1])
		}
	}
}

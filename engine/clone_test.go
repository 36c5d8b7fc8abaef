// What this file proves: CloneCommands and CloneCommandsInto copy every
// byte field of a Command, so that the copy shares no memory with the
// original, and keep nil fields nil; and a reused buffer is reused.
//
// How: by reflection, every []byte field of Command is filled with bytes of
// its own, the command is cloned, the original's bytes are overwritten, and
// each field of the copy must still hold its first contents. A field added
// to Command later is covered without touching this test.
package engine

import (
	"bytes"
	"reflect"
	"testing"
)

// byteFieldsOf returns the names of Command's []byte fields.
func byteFieldsOf(t *testing.T) []string {
	t.Helper()
	var names []string
	typ := reflect.TypeFor[Command]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8 {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		t.Fatal("Command has no byte fields?")
	}
	return names
}

func filledCommand(names []string) Command {
	c := Command{Op: OpReserve, Linked: true, ID: 7, Qty: 3, Deadline: 9, Seq: 11, ItemShard: 2}
	v := reflect.ValueOf(&c).Elem()
	for i, name := range names {
		v.FieldByName(name).SetBytes(bytes.Repeat([]byte{byte('a' + i)}, 3+i))
	}
	return c
}

func TestCloneCopiesEveryByteField(t *testing.T) {
	names := byteFieldsOf(t)
	orig := []Command{filledCommand(names), filledCommand(names)}
	want := []Command{filledCommand(names), filledCommand(names)}
	clones := map[string][]Command{"CloneCommands": CloneCommands(orig)}
	into, _ := CloneCommandsInto(nil, make([]byte, 0, 4), orig)
	clones["CloneCommandsInto"] = into
	for i := range orig {
		v := reflect.ValueOf(&orig[i]).Elem()
		for _, name := range names {
			b := v.FieldByName(name).Bytes()
			for k := range b {
				b[k] = '#'
			}
		}
	}
	for how, got := range clones {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the copy changed with the original, or lost a field:\n got %+v\nwant %+v", how, got, want)
		}
	}
}

func TestCloneKeepsNilAndEmpty(t *testing.T) {
	names := byteFieldsOf(t)
	c := Command{Op: OpCancel, ID: 1, Key: []byte{}}
	got := CloneCommands([]Command{c})[0]
	v := reflect.ValueOf(got)
	for _, name := range names {
		f := v.FieldByName(name)
		if name == "Key" {
			if f.IsNil() || f.Len() != 0 {
				t.Errorf("an empty Key became %v", f.Bytes())
			}
			continue
		}
		if !f.IsNil() {
			t.Errorf("nil %s became %v", name, f.Bytes())
		}
	}
}

func TestCloneIntoReusesTheBuffer(t *testing.T) {
	c := Command{Op: OpReserve, SKU: []byte("sku"), Store: []byte("store"), Customer: []byte("c")}
	buf := make([]byte, 0, 64)
	dst, out := CloneCommandsInto(make([]Command, 0, 1), buf, []Command{c})
	if &out[:1][0] != &buf[:1][0] {
		t.Fatal("a buffer with room was not reused")
	}
	if string(dst[0].SKU) != "sku" || string(dst[0].Store) != "store" || string(dst[0].Customer) != "c" {
		t.Fatalf("copy: %+v", dst[0])
	}
	if n := testing.AllocsPerRun(100, func() { dst, out = CloneCommandsInto(dst[:0], out, []Command{c}) }); n != 0 {
		t.Fatalf("%v allocations with a buffer that has room", n)
	}
}

// TestCloneCopiesBulkItems: a bulk put's items are copied with their ids,
// so that the copy shares nothing with the original.
func TestCloneCopiesBulkItems(t *testing.T) {
	sku, store := []byte("sku-1"), []byte("st-1")
	orig := []Command{{Op: OpPutItems, Items: []ItemPut{{SKU: sku, Store: store, Set: SetStock, Stock: 4}}}}
	for how, got := range map[string]Command{
		"CloneCommands":     CloneCommands(orig)[0],
		"CloneCommandsInto": func() Command { c, _ := CloneCommandsInto(nil, nil, orig); return c[0] }(),
	} {
		copy(sku, "#####")
		copy(store, "####")
		orig[0].Items[0].Stock = 9
		if p := got.Items[0]; string(p.SKU) != "sku-1" || string(p.Store) != "st-1" || p.Stock != 4 {
			t.Errorf("%s: the copy changed with the original: %+v", how, p)
		}
		copy(sku, "sku-1")
		copy(store, "st-1")
		orig[0].Items[0].Stock = 4
	}
}

// Tests of cluster mode's configuration (cluster.go): the --peers list is
// parsed into members with raft ids node-N, malformed lists are refused
// with a reason, and applyCluster binds and advertises this node's raft
// address, advertises its client address, lists every member as a voter,
// and refuses a node missing from the list or a cluster without a shared
// pickup secret.
package main

import (
	"strings"
	"testing"
)

func TestParsePeers(t *testing.T) {
	peers, err := parsePeers("1=127.0.0.1:7430=127.0.0.1:7420, 2=127.0.0.1:7431=127.0.0.1:7422,3=h3:7432=h3:7424")
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 3 || peers[1].NodeID != 2 || peers[1].RaftID != "node-2" ||
		peers[1].RaftAddr != "127.0.0.1:7431" || peers[1].ClientAddr != "127.0.0.1:7422" || peers[2].RaftAddr != "h3:7432" {
		t.Fatalf("parsed %+v", peers)
	}
	for spec, want := range map[string]string{
		"1=a:1":               "want id=raft-address=client-address",
		"0=a:1=b:2":           "above 0",
		"x=a:1=b:2":           "above 0",
		"1=a:1=b:2,1=c:3=d:4": "twice",
		"1=a=b:2":             "missing port",
	} {
		if _, err := parsePeers(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parsePeers(%q): %v, want an error with %q", spec, err, want)
		}
	}
}

func TestApplyCluster(t *testing.T) {
	cfg := defaultConfig()
	cfg.PeersSpec = "1=127.0.0.1:7430=127.0.0.1:7420,2=127.0.0.1:7431=127.0.0.1:7422"
	cfg.Server.NodeID = 2
	opts := cfg.Node
	if _, err := applyCluster(&cfg, &opts); err == nil || !strings.Contains(err.Error(), "pickup_secret") {
		t.Fatalf("cluster without a pickup secret: %v", err)
	}
	cfg.PickupSecretHex = strings.Repeat("ab", 32)
	peers, err := applyCluster(&cfg, &opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 2 || len(opts.Peers) != 2 || opts.Peers[0].ID != "node-1" || opts.Peers[1].Addr != "127.0.0.1:7431" {
		t.Fatalf("raft peers %+v", opts.Peers)
	}
	if opts.BindAddr != "127.0.0.1:7431" || opts.Advertise != "127.0.0.1:7431" || cfg.Server.Advertise != "127.0.0.1:7422" {
		t.Fatalf("bind %s advertise %s client %s", opts.BindAddr, opts.Advertise, cfg.Server.Advertise)
	}
	cfg.Server.NodeID = 3
	if _, err := applyCluster(&cfg, &opts); err == nil {
		t.Fatal("a node missing from --peers was accepted")
	}
	if opts.Replicas != defaultReplicas || opts.NoBootstrap {
		t.Fatalf("replicas %d, no bootstrap %v", opts.Replicas, opts.NoBootstrap)
	}
	single := defaultConfig()
	if p, err := applyCluster(&single, &single.Node); err != nil || p != nil {
		t.Fatalf("single node: %v %v", p, err)
	}

	// A joining node bootstraps nothing and lists itself from its own
	// addresses when --peers does not.
	join := defaultConfig()
	join.PeersSpec, join.PickupSecretHex, join.Join = cfg.PeersSpec, cfg.PickupSecretHex, true
	join.Server.NodeID, join.Node.BindAddr, join.Listen = 4, "127.0.0.1:7433", "127.0.0.1:7426"
	jopts := join.Node
	peers, err = applyCluster(&join, &jopts)
	if err != nil {
		t.Fatal(err)
	}
	if !jopts.NoBootstrap || len(peers) != 3 || peers[2].NodeID != 4 || peers[2].RaftAddr != "127.0.0.1:7433" ||
		peers[2].ClientAddr != "127.0.0.1:7426" || join.Server.Advertise != "127.0.0.1:7426" {
		t.Fatalf("join: no bootstrap %v, peers %+v, advertise %s", jopts.NoBootstrap, peers, join.Server.Advertise)
	}
	join.Node.BindAddr = ""
	if _, err := applyCluster(&join, &join.Node); err == nil || !strings.Contains(err.Error(), "--raft") {
		t.Fatalf("join without a raft address: %v", err)
	}
	neg := cfg
	neg.Server.NodeID, neg.Node.Replicas = 2, -1
	if _, err := applyCluster(&neg, &neg.Node); err == nil || !strings.Contains(err.Error(), "replicas") {
		t.Fatalf("replicas -1: %v", err)
	}
}
